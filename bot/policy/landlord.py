"""The landlord's facts and limits, each written once: the portal, the console, the actions,
the settings' defaults and the templates (the ``landlord`` Jinja global) read them from here.

Each constant says where it comes from: the landlord's help page (``tests/help_page_fr.txt``,
quoted) or "our choice" (a limit the help page does not state). The chat's wording
(``domain.yml``) cannot read Python; ``tests/policy/test_facts_in_wording.py`` checks that
every number it states for these facts is the one written here.

Rate limits are all ``Limit(count, window)``: at most ``count`` attempts in each ``window``.
Some counts and windows can be changed per deployment (the variable is named next to them);
``Settings`` takes its defaults from here and hands services the limits in force.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple


class Limit(NamedTuple):
    """At most ``count`` attempts in each ``window`` (a tuple: ``count, window = limit``)."""

    count: int
    window: timedelta


# --------------------------------------------------------------------------- who the tenant is

#: Help page: "votre Numéro client sur 8 chiffres (présent sur votre avis d'échéance)".
CLIENT_NUMBER_LENGTH = 8

# --------------------------------------------------------------------------- promises

#: Help page: insurance updates are accepted "et mise à jour dans un délai de 48h".
VALIDATION_DELAY_HOURS = 48
#: Our choice: staff decide a direct-debit request within the same delay (the help page only
#: says "Un délai de quelques jours" for the whole set-up, post included).
DIRECT_DEBIT_REVIEW_HOURS = VALIDATION_DELAY_HOURS
#: Help page: after an online payment "Le compte locataire sera mis à jour dans un délai de 48h".
PAYMENT_POSTING_DELAY_HOURS = 48
#: Help page: "Choisir le jour de prélèvement souhaité (le 2, le 7 ou le 10 du mois)".
DEBIT_DAYS = (2, 7, 10)
#: Help page: "votre compte sera désactivé dans un délai de 6 mois après votre date de sortie".
DEACTIVATION_MONTHS = 6
#: Our choice: insurance reminders this many days before the certificate expires.
INSURANCE_REMINDER_DAYS_BEFORE = (30, 7)

# --------------------------------------------------------------------------- links and codes

#: Our choice (the help page only says to follow the emailed link): activation link, in hours.
ACTIVATION_LINK_HOURS = 48
#: Our choice: password reset link, in minutes.
PASSWORD_RESET_LINK_MINUTES = 60
#: Our choice: the link confirming a new login address, in hours.
IDENTIFIER_CHANGE_LINK_HOURS = 24
#: Our choice: online payment link, in minutes (``PAYMENT_LINK_MINUTES``).
PAYMENT_LINK_MINUTES = 30
#: Our choice: link to send a document (RIB, certificate), in hours (``UPLOAD_TTL_HOURS``).
UPLOAD_LINK_HOURS = 24
#: Our choice: the one-time code that verifies a conversation: digits, lifetime in minutes.
VERIFICATION_CODE_DIGITS = 6
VERIFICATION_CODE_MINUTES = 10
#: Our choice: how long a verified conversation may read the tenant's account, in minutes.
GRANT_MINUTES = 30
#: Our choice: the token a logged-in tenant page hands the chat widget, in seconds.
WIDGET_TOKEN_SECONDS = 300
#: Our choice: a tenant's login ends after this long without a page view, or this long at most.
TENANT_LOGIN_IDLE = timedelta(minutes=30)
TENANT_LOGIN_MAX_AGE = timedelta(hours=12)
#: Our choice: the same for a staff member's login to the console.
STAFF_LOGIN_IDLE = timedelta(minutes=30)
STAFF_LOGIN_MAX_AGE = timedelta(hours=10)

# --------------------------------------------------------------------------- amounts and files

#: Our choice: the largest online payment, in euros (``PAYMENT_MAX_AMOUNT``).
MAX_ONLINE_PAYMENT = Decimal("5000.00")
#: Our choice: the largest document sent through an upload link (``UPLOAD_MAX_BYTES``).
UPLOAD_MAX_BYTES = 5 * 1024 * 1024

# --------------------------------------------------------------------------- rate limits

#: Our choice: the window of the identity and login limits (``RATE_LIMIT_WINDOW_MINUTES``
#: changes it for all the limits counted in it).
ATTEMPT_WINDOW = timedelta(minutes=15)
#: Our choice: identity guesses (registration, recovery, codes) per conversation
#: (``RATE_LIMIT_PER_CONVERSATION``).
ATTEMPTS_PER_CONVERSATION = Limit(8, ATTEMPT_WINDOW)
#: Our choice: the same per client number, and per account for account changes
#: (``RATE_LIMIT_PER_CLIENT_NUMBER``).
ATTEMPTS_PER_CLIENT_NUMBER = Limit(5, ATTEMPT_WINDOW)
#: Our choice: tenant page logins per email and per client IP.
TENANT_LOGINS_PER_EMAIL = Limit(5, ATTEMPT_WINDOW)
TENANT_LOGINS_PER_IP = Limit(20, ATTEMPT_WINDOW)
#: Our choice: console logins per client IP; successes count too, and a whole team may log in
#: from one office address.
STAFF_LOGINS_PER_IP = Limit(50, ATTEMPT_WINDOW)
#: Our choice: this many wrong staff passwords from one address lock that address out of the
#: account for ``STAFF_LOCK_DURATION``.
STAFF_WRONG_PASSWORDS = Limit(5, timedelta(minutes=15))
STAFF_LOCK_DURATION = timedelta(minutes=15)
#: Our choice: wrong entries that spend a verification code, within its lifetime.
WRONG_CODES = Limit(5, timedelta(minutes=VERIFICATION_CODE_MINUTES))
#: Our choice: emails with a code or a link one address may receive, shortest window first
#: (``MAIL_LIMIT_PER_QUARTER_HOUR``, ``MAIL_LIMIT_PER_DAY``).
EMAILS_PER_ADDRESS = (Limit(5, timedelta(minutes=15)), Limit(20, timedelta(days=1)))

#: Every limit counted in the database (``bot/portal/services/ratelimit.py``).
COUNTED_LIMITS = (
    ATTEMPTS_PER_CONVERSATION,
    ATTEMPTS_PER_CLIENT_NUMBER,
    TENANT_LOGINS_PER_EMAIL,
    TENANT_LOGINS_PER_IP,
    STAFF_LOGINS_PER_IP,
    *EMAILS_PER_ADDRESS,
)

# --------------------------------------------------------------------------- the portal's pace

#: Our choice: how often a portal worker looks for emails to send when nothing wakes it.
OUTBOX_POLL_SECONDS = 2.0


def minutes(duration: timedelta) -> int:
    """``duration`` in whole minutes, as the settings count windows."""
    return int(duration / timedelta(minutes=1))
