"""Errors of the staff console, placed in the portal's one hierarchy (``bot.errors``)
so that ``bot/web/errors.py`` maps them to HTTP like any other::

    PortalError
     ├── InvalidInput ── (weak password, bad email: raised by the shared rules)   -> 400
     ├── NotAuthenticated
     │    └── StaffNotAllowed   the staff member's role forbids the operation      -> 401
     ├── NotFound
     │    ├── StaffNotFound     no staff account with this id                      -> 404
     │    └── HouseholdNotFound no household with this client number (erasure)     -> 404
     └── Conflict
          ├── StaffEmailTaken   a staff account already uses this email            -> 409
          └── LastAdmin         the change would leave no active administrator     -> 409

The console's pages catch ``StaffNotAllowed`` before it reaches the mapping and answer 403;
the hierarchy has no 403 class of its own yet.
"""

from __future__ import annotations

from bot.errors import Conflict, NotAuthenticated, NotFound


class StaffNotAllowed(NotAuthenticated):
    """The staff member's role (or deactivation) forbids the operation."""

    code = "staff_not_allowed"


class StaffNotFound(NotFound):
    """No staff account with this id."""

    code = "staff_not_found"


class HouseholdNotFound(NotFound):
    """No household with this client number (erasure)."""

    code = "household_not_found"


class StaffEmailTaken(Conflict):
    """A staff account already uses this email."""

    code = "staff_email_taken"


class LastAdmin(Conflict):
    """The change would leave no active administrator."""

    code = "last_admin"
