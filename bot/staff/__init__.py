"""The staff console: support staff log in at ``/staff`` (French pages served by the portal).

::

    bot/staff/
      errors.py             staff errors, subclasses of the portal's hierarchy
      services/accounts.py  staff accounts: creation, authentication with lock-out, roles
      services/audit.py     the audit log of every staff action
      services/sessions.py  the staff login cookie and CSRF tokens (signed by services/signing)
      web/                  the /staff blueprints, ``staff_required`` and page helpers
      cli.py                ``python -m bot.cli create-staff-admin``

The tables (``StaffAccount``, ``StaffAuditEntry``) live with the portal's in
``bot/portal/models/staff.py``: one database, one ``create_database``.
"""
