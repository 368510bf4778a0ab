"""The one typed client the actions use to reach the portal.

Exception tree (what actions branch on)::

    PortalClientError
     ├── PortalUnavailable   timeout, connection refused, 5xx: try again later
     └── PortalRejected      4xx with the portal's error ``code`` (and ``field``)
          └── TooManyAttempts  429: the rate limit of the conversation or client number

Tests hand in an ``httpx.MockTransport`` through the constructor.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(8.0, connect=2.0)


class PortalClientError(Exception):
    """Base of every failure of a portal call."""


class PortalUnavailable(PortalClientError):
    """The portal did not answer usefully; nothing can be concluded about the request."""


class PortalRejected(PortalClientError):
    def __init__(self, status: int, code: str, field: str | None = None, body: dict | None = None):
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.field = field
        self.body = body or {}


class TooManyAttempts(PortalRejected):
    """Too many identity attempts for this conversation or client number."""


class NotVerified(PortalRejected):
    """The portal holds no live verification for this conversation (never, or expired)."""


#: Statuses an action lets through to ``PortalAction.run`` (expired verification, rate limit).
PASSED_ON = (401, 429)


class PortalClient:
    """Async client for ``/api/v1``; one ``httpx.AsyncClient`` reused across calls."""

    def __init__(
        self,
        base_url: str,
        service_token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ):
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {service_token}"},
            transport=transport,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, payload: dict[str, Any], conversation_id: str) -> dict:
        return await self._request("POST", path, conversation_id, payload)

    async def _request(
        self, method: str, path: str, conversation_id: str, payload: dict[str, Any] | None = None
    ) -> dict:
        try:
            response = await self._client.request(
                method, path, json=payload, headers={"X-Conversation-Id": conversation_id}
            )
        except httpx.HTTPError as error:
            raise PortalUnavailable(str(error)) from error
        if response.status_code == 204:
            return {}
        if response.status_code >= 500:
            raise PortalUnavailable(f"portal answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise PortalUnavailable("portal answered something that is not JSON") from error
        if response.status_code >= 400:
            code = str(body.get("error", "error")) if isinstance(body, dict) else "error"
            field = body.get("field") if isinstance(body, dict) else None
            error_class = {429: TooManyAttempts, 401: NotVerified}.get(
                response.status_code, PortalRejected
            )
            raise error_class(
                response.status_code, code, field, body if isinstance(body, dict) else {}
            )
        return body if isinstance(body, dict) else {}

    async def register(
        self, *, conversation_id: str, client_number: str, surname: str, email: str
    ) -> None:
        payload = {"client_number": client_number, "surname": surname, "email": email}
        await self._post("/registrations", payload, conversation_id)

    async def resend_activation(self, *, conversation_id: str, email: str) -> None:
        await self._post("/activation-emails", {"email": email}, conversation_id)

    async def remind_identifier(
        self, *, conversation_id: str, client_number: str, surname: str
    ) -> None:
        payload = {"client_number": client_number, "surname": surname}
        await self._post("/identifier-reminders", payload, conversation_id)

    async def request_password_reset(self, *, conversation_id: str, email: str) -> None:
        await self._post("/password-resets", {"email": email}, conversation_id)

    async def record_handoff(
        self, *, conversation_id: str, channel: str, reason: str, topic: str | None
    ) -> dict:
        """``{"id", "status", "open_now"}``, and ``next_opening_text`` ("lundi à 8 h 30")
        when staff are not there now."""
        payload = {
            "conversation_id": conversation_id,
            "channel": channel,
            "reason": reason,
            "topic": topic or "",
        }
        return await self._post("/handoffs", payload, conversation_id)

    # --- verified conversations -------------------------------------------------------------

    async def start_verification(self, *, conversation_id: str, email: str) -> None:
        await self._post("/verifications", {"email": email}, conversation_id)

    async def confirm_code(self, *, conversation_id: str, code: str) -> dict:
        """``{"verified": true, ...}``; a wrong code raises ``PortalRejected`` (attempts_left)."""
        return await self._post("/verifications/code", {"code": code}, conversation_id)

    async def verify_session_token(self, *, conversation_id: str, token: str) -> dict:
        return await self._post("/verifications/session-token", {"token": token}, conversation_id)

    async def end_verification(self, *, conversation_id: str) -> None:
        await self._request("DELETE", "/verifications", conversation_id)

    async def me(self, *, conversation_id: str) -> dict:
        """The verified household (leases, balances); ``NotVerified`` when not verified."""
        return await self._request("GET", "/me", conversation_id)

    async def create_payment(
        self, *, conversation_id: str, lease_reference: str, amount: str
    ) -> dict:
        """``{"payment_url", "expires_at", "amount", "lease_label"}`` for a verified household."""
        payload = {"lease_reference": lease_reference, "amount": amount}
        return await self._post("/payments", payload, conversation_id)

    # --- uploads ------------------------------------------------------------------------------

    async def create_upload(self, *, conversation_id: str, purpose: str, kinds: list[str]) -> dict:
        """``{"slot_id", "upload_url", "expires_at"}``: a single-use link to send one file."""
        payload = {"purpose": purpose, "kinds": kinds}
        return await self._post("/uploads", payload, conversation_id)

    async def upload_status(self, *, conversation_id: str, slot_id: int) -> dict:
        """``{"status": "waiting" | "received" | "expired", "filename", "kind", ...}``."""
        return await self._request("GET", f"/uploads/{int(slot_id)}", conversation_id)

    # --- direct debit -------------------------------------------------------------------------

    async def direct_debit_profile(self, *, conversation_id: str) -> dict:
        """Prefill: ``holder_name``, ``address``, ``email``, ``debit_day``, ``leases``,
        ``pending_mandate_reference``."""
        return await self._request("GET", "/direct-debit/profile", conversation_id)

    async def remember_iban(self, *, conversation_id: str, iban: str) -> dict:
        """The portal keeps the IBAN for this conversation: ``{"iban_masked", "bank_name"...}``."""
        return await self._request("PUT", "/direct-debit/iban", conversation_id, {"iban": iban})

    async def forget_iban(self, *, conversation_id: str, rib_slot_id: int | None = None) -> None:
        """The tenant gave the request up: the portal deletes the IBAN it kept for the
        conversation and the RIB sent through ``rib_slot_id`` (if no request uses it)."""
        query = "" if rib_slot_id is None else f"?rib_slot_id={int(rib_slot_id)}"
        await self._request("DELETE", f"/direct-debit/iban{query}", conversation_id)

    async def create_direct_debit(
        self,
        *,
        conversation_id: str,
        bank_name: str,
        debit_day: int,
        holder_name: str,
        address: str,
        rib_slot_id: int,
    ) -> dict:
        """Record the request with the IBAN kept by ``remember_iban``; the mandate is emailed."""
        payload = {
            "bank_name": bank_name,
            "debit_day": debit_day,
            "holder_name": holder_name,
            "address": address,
            "rib_slot_id": rib_slot_id,
        }
        return await self._post("/direct-debits", payload, conversation_id)

    # --- home insurance -----------------------------------------------------------------------

    async def insurance(self, *, conversation_id: str) -> dict:
        """``{"certificate", "pending", "insurers", "upload", "validation_delay_hours"}``."""
        return await self._request("GET", "/insurance", conversation_id)

    async def check_insurance_field(self, *, conversation_id: str, field: str, text: str) -> dict:
        """``field`` is ``date`` (``{"valid_until", "valid_until_text"}``), ``insurer`` or
        ``policy-number`` (``{"value"}``); a refusal raises ``PortalRejected`` with its code."""
        return await self._post(f"/insurance-checks/{field}", {"text": text}, conversation_id)

    async def submit_insurance(
        self,
        *,
        conversation_id: str,
        insurer: str,
        policy_number: str,
        valid_until: str,
        upload_slot_id: int,
    ) -> dict:
        payload = {
            "insurer": insurer,
            "policy_number": policy_number,
            "valid_until": valid_until,
            "upload_slot_id": upload_slot_id,
        }
        return await self._post("/insurance-submissions", payload, conversation_id)

    # --- account changes ----------------------------------------------------------------------

    async def request_identifier_change(self, *, conversation_id: str, new_email: str) -> dict:
        """A confirmation link goes to the new address: ``{"sent_to_masked"}``."""
        return await self._post("/identifier-changes", {"new_email": new_email}, conversation_id)

    async def request_password_change(self, *, conversation_id: str) -> dict:
        """A link to choose a new password goes to the account's address: ``{"sent_to_masked"}``."""
        return await self._post("/password-changes", {}, conversation_id)

    async def unsubscribe(self, *, conversation_id: str) -> dict:
        return await self._post("/unsubscriptions", {}, conversation_id)


_default: PortalClient | None = None


def default_client() -> PortalClient:
    """The process-wide client, built on first use from PORTAL_URL and PORTAL_SERVICE_TOKEN."""
    global _default
    if _default is None:
        from bot.settings import DEV_SERVICE_TOKEN

        _default = PortalClient(
            os.environ.get("PORTAL_URL", "http://127.0.0.1:8000"),
            os.environ.get("PORTAL_SERVICE_TOKEN", DEV_SERVICE_TOKEN),
        )
    return _default
