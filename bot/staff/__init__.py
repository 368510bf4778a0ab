"""The staff console: support staff log in at ``/staff`` (French pages served by the portal).

::

    bot/staff/
      errors.py             staff errors, in the one hierarchy (bot.errors)
      services/accounts.py  staff accounts: creation, roles, deactivation, unlocking
      services/staff_login.py  logging in and out, lock-out per client address
      services/audit.py     the audit log of every staff action
      services/sessions.py  the staff login cookie and CSRF tokens (portal.services.signing)
      web/                  the /staff blueprints, ``staff_required`` and page helpers
      templates/staff/      the console's pages (over the shared layout of bot/web/templates)
      cli.py                ``python -m bot.cli create-staff-admin``

The tables (``StaffAccount``, ``StaffAuditEntry``) live with the portal's in
``bot/portal/models/staff.py``: one database, one ``create_database``.
"""
