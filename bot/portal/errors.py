"""The portal's one exception hierarchy; ``api/errors.py`` maps it to HTTP once.

::

    PortalError
     ├── InvalidInput        bad or missing field            -> 400
     ├── NotAuthenticated    missing or wrong service token   -> 401
     ├── NotFound            unknown route or resource        -> 404
     ├── Conflict            state forbids the operation      -> 409
     ├── TokenInvalid        link unknown, used or expired    -> 410
     └── RateLimited         too many attempts                -> 429

Each error carries a stable ``code`` the actions branch on, and French ``message`` text meant
for pages the tenant sees (never raw backend detail).
"""

from __future__ import annotations


class PortalError(Exception):
    code = "portal_error"

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(PortalError):
    """Une donnée est absente ou mal formée."""

    code = "invalid_input"


class NotAuthenticated(PortalError):
    """Authentification requise."""

    code = "not_authenticated"


class NotFound(PortalError):
    """Ressource introuvable."""

    code = "not_found"


class Conflict(PortalError):
    """L'opération n'est pas possible dans l'état actuel."""

    code = "conflict"


class TokenInvalid(PortalError):
    """Lien inconnu, déjà utilisé ou expiré."""

    code = "token_invalid"


class RateLimited(PortalError):
    """Trop de tentatives."""

    code = "rate_limited"
