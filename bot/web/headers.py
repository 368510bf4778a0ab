"""Security headers of the pages people see, named by what the page holds; the portal and
the console pick one set per page instead of writing their own."""

from __future__ import annotations

#: A page reached through a link that carries a secret (activation, new password, payment,
#: upload): never leak it to another site through the Referer header, never cache the page.
SECRET_LINK_PAGE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

#: The tenant's own pages (personal data and a live token): never cached, never framed.
TENANT_PAGE = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

#: Staff pages hold personal data: never cached, never framed, no script or style from elsewhere.
STAFF_PAGE = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

#: A file a tenant submitted, shown to staff inside the detail page (same origin) or on its
#: own: never kept by the browser, never sniffed into another type, never allowed to run
#: anything (Chromium's PDF viewer still shows a PDF under this policy).
SUBMITTED_FILE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
}
