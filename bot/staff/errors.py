"""Errors of the staff console, placed in the portal's one hierarchy (``bot.portal.errors``)
so that ``bot/portal/api/errors.py`` maps them to HTTP like any other::

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

from bot.portal.errors import Conflict, NotAuthenticated, NotFound


class StaffNotAllowed(NotAuthenticated):
    """Action réservée aux administrateurs."""

    code = "staff_not_allowed"


class StaffNotFound(NotFound):
    """Compte du personnel introuvable."""

    code = "staff_not_found"


class HouseholdNotFound(NotFound):
    """Aucun foyer n'a ce numéro client."""

    code = "household_not_found"


class StaffEmailTaken(Conflict):
    """Un compte du personnel existe déjà pour cette adresse."""

    code = "staff_email_taken"


class LastAdmin(Conflict):
    """Il doit rester au moins un administrateur actif."""

    code = "last_admin"
