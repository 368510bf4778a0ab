"""An administrator erases one household: its conversations and the portal data no law keeps,
after a look-up and a typed confirmation; what stays (payments, mandates, certificates in
force, the lease) stays; other households are untouched; agents cannot do it."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.portal.models import (
    Account,
    AccountStatus,
    CertificateStatus,
    ConversationGrant,
    ConversationSummary,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    Lease,
    OneTimeToken,
    OutboxEmail,
    Payment,
    RateLimitCounter,
    StoredUpload,
    VerificationChallenge,
    utcnow,
)
from bot.portal.services import account_changes, payments
from bot.portal.services.mail_limits import recipient_keys
from bot.settings import Settings
from bot.staff.retention.household import HOUSEHOLD_ERASED
from tests.portal.support import Portal
from tests.staff.support import FORBIDDEN, HTML, RasaEvents, StaffBrowser, audit_entries
from tests.staff.test_transcripts import HELLO, at, grant, refresh
from tests.staff.test_validations import household_id, request_direct_debit, submit_certificate

PAGE = "/staff/administration/effacement"
CONVERSATIONS = "Conversations (messages, index, vérifications, demandes de conseiller)"
NGUYEN, DUPONT = "11223344", "87654321"
MINH, CLAIRE = "minh.nguyen@example.org", "claire.dupont@example.org"


async def tracker_senders(settings: Settings) -> set[str]:
    engine = create_async_engine(settings.resolved_tracker_database_url)
    try:
        async with engine.connect() as connection:
            return set(await connection.scalars(text("SELECT DISTINCT sender_id FROM events")))
    finally:
        await engine.dispose()


async def count(sessions: sessionmaker, query) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(query.subquery()))


async def a_household_with_history(portal: Portal, rasa: RasaEvents) -> None:
    """The Nguyen household chatted, paid, asked twice for a direct debit (one refused) and
    sent a certificate that was refused; the Dupont household chatted too."""
    sessions, settings = portal.sessions, portal.settings
    await rasa.talk("web-nguyen", HELLO, start=at(1))
    await rasa.talk("tg-nguyen", HELLO, start=at(2), channel="telegram")
    await rasa.talk("web-dupont", HELLO, start=at(3))
    await grant(sessions, "web-nguyen", MINH)
    await grant(sessions, "tg-nguyen", MINH)
    await grant(sessions, "web-dupont", CLAIRE)
    await refresh(sessions, settings)

    refused = await request_direct_debit(portal)
    async with sessions.begin() as session:
        (await session.get(DirectDebitRequest, refused)).status = DirectDebitStatus.REJECTED
    await request_direct_debit(portal)  # waiting for its signed mandate: kept
    certificate = await submit_certificate(portal, NGUYEN)
    async with sessions.begin() as session:
        (await session.get(InsuranceCertificate, certificate)).status = CertificateStatus.REJECTED
    household = await household_id(sessions, NGUYEN)
    async with sessions.begin() as session:
        account = await session.scalar(select(Account).where(Account.email == MINH))
        lease = await session.scalar(select(Lease).where(Lease.household_id == household))
        await payments.create_payment(
            session=session,
            settings=settings,
            household_id=household,
            account_id=account.id,
            lease_reference=lease.reference,
            amount="25",
        )
        await account_changes.request_password_change(
            session=session, settings=settings, account_id=account.id
        )
        session.add(
            VerificationChallenge(
                conversation_id="sms-nguyen",
                account_id=account.id,
                code_hash="0" * 64,
                expires_at=utcnow() + timedelta(minutes=10),
            )
        )


async def test_the_look_up_shows_whose_data_goes_and_what_the_law_keeps(
    portal: Portal, rasa: RasaEvents, admin: StaffBrowser
) -> None:
    await a_household_with_history(portal, rasa)

    page = await admin.client.get(PAGE, params={"numero": "1122 3344"}, headers=HTML)

    assert page.status_code == 200
    body = unescape(page.text)
    assert "Foyer n° 11223344 – Nguyen" in body
    assert (
        "Conversations (messages, index, vérifications, demandes de conseiller)</th><td>3" in body
    )
    assert "Demandes refusées ou incomplètes (prélèvement, assurance)</th><td>2" in body
    assert "Pièces comptables : 10 ans" in body
    assert 'name="confirmation"' in body
    assert await tracker_senders(portal.settings) == {"web-nguyen", "tg-nguyen", "web-dupont"}


async def test_an_unknown_or_malformed_number_says_so(portal: Portal, admin: StaffBrowser) -> None:
    unknown = await admin.client.get(PAGE, params={"numero": "99999999"}, headers=HTML)
    malformed = await admin.client.get(PAGE, params={"numero": "12ab"}, headers=HTML)

    assert unknown.status_code == 404
    assert "Aucun foyer n'a ce numéro client." in unescape(unknown.text)
    assert malformed.status_code == 400
    assert 'name="confirmation"' not in malformed.text


async def test_erasing_deletes_conversations_and_logins_and_keeps_what_the_law_requires(
    portal: Portal, rasa: RasaEvents, admin: StaffBrowser
) -> None:
    await a_household_with_history(portal, rasa)
    sessions = portal.sessions
    household = await household_id(sessions, NGUYEN)
    payments_before = await count(sessions, select(Payment.id))
    minh_counters = select(RateLimitCounter.id).where(
        RateLimitCounter.key.in_(recipient_keys(MINH))
    )
    assert await count(sessions, minh_counters) > 0

    wrong = await admin.post(f"{PAGE}/{NGUYEN}", {"confirmation": "11223345"})
    assert wrong.status_code == 400
    assert "rien n'a été effacé" in unescape(wrong.text)
    assert "web-nguyen" in await tracker_senders(portal.settings)

    done = await admin.post(f"{PAGE}/{NGUYEN}", {"confirmation": NGUYEN})

    assert done.status_code == 303
    page = unescape((await admin.client.get(done.headers["location"], headers=HTML)).text)
    assert "Le foyer n° 11223344 a été effacé" in page
    assert "3 conversation(s)" in page
    # Conversations: gone from the tracker store and from the portal.
    assert await tracker_senders(portal.settings) == {"web-dupont"}
    async with sessions() as session:
        assert list(await session.scalars(select(ConversationSummary.conversation_id))) == [
            "web-dupont"
        ]
        assert list(await session.scalars(select(ConversationGrant.conversation_id))) == [
            "web-dupont"
        ]
        assert await session.scalar(select(func.count()).select_from(VerificationChallenge)) == 0
        # The login: no address, no password, no link; the household may register again.
        (account,) = await session.scalars(select(Account).where(Account.household_id == household))
        assert account.email.endswith("@efface.invalid") and account.password_hash is None
        assert account.status == AccountStatus.UNSUBSCRIBED
        assert await session.scalar(select(func.count()).select_from(OneTimeToken)) == 0
        assert MINH not in {e.to_address for e in await session.scalars(select(OutboxEmail))}
        # Not even the per-address email counters (keyed by a hash of the address).
        assert await session.scalar(select(func.count()).select_from(minh_counters.subquery())) == 0
        # Kept: the lease, the payment, the pending mandate and its RIB; not the refused ones.
        assert await session.get(Household, household) is not None
        statuses = list(
            await session.scalars(
                select(DirectDebitRequest.status).where(
                    DirectDebitRequest.household_id == household
                )
            )
        )
        assert statuses == [DirectDebitStatus.PENDING_SIGNATURE]
        certificates = set(
            await session.scalars(
                select(InsuranceCertificate.status).where(
                    InsuranceCertificate.household_id == household
                )
            )
        )
        assert CertificateStatus.REJECTED not in certificates
        assert (
            await session.scalar(
                select(func.count())
                .select_from(StoredUpload)
                .where(StoredUpload.household_id == household)
            )
            == 1
        )
    assert await count(sessions, select(Payment.id)) == payments_before == 1
    # Another household's login and emails are untouched.
    async with sessions() as session:
        assert await session.scalar(select(Account).where(Account.email == CLAIRE)) is not None
    (entry,) = await audit_entries(sessions, HOUSEHOLD_ERASED)
    assert (entry.target_type, entry.target_id) == ("household", NGUYEN)
    assert entry.details["conversations"] == 3 and entry.details["paiements_conserves"] == 1
    assert MINH not in str(entry.details)


async def test_erasing_twice_finds_nothing_more(
    portal: Portal, rasa: RasaEvents, admin: StaffBrowser
) -> None:
    await a_household_with_history(portal, rasa)
    await admin.post(f"{PAGE}/{NGUYEN}", {"confirmation": NGUYEN})

    page = unescape((await admin.client.get(PAGE, params={"numero": NGUYEN})).text)

    assert (
        "Conversations (messages, index, vérifications, demandes de conseiller)</th><td>0" in page
    )
    assert "E-mails envoyés ou en attente d'envoi</th><td>0" in page


async def test_an_agent_cannot_erase(portal: Portal, rasa: RasaEvents, agent: StaffBrowser) -> None:
    await a_household_with_history(portal, rasa)

    page = await agent.client.get(PAGE, params={"numero": NGUYEN}, headers=HTML)
    refused = await agent.post(f"{PAGE}/{NGUYEN}", {"confirmation": NGUYEN})

    assert (page.status_code, refused.status_code) == (403, 403)
    assert FORBIDDEN in refused.text
    assert "web-nguyen" in await tracker_senders(portal.settings)
    assert await audit_entries(portal.sessions, HOUSEHOLD_ERASED) == []


@pytest.mark.parametrize("store", ["unreachable", "read-only"])
async def test_nothing_is_erased_when_the_conversations_store_cannot_delete(
    store: str, portal: Portal, rasa: RasaEvents, admin: StaffBrowser
) -> None:
    await a_household_with_history(portal, rasa)
    tracker_file = portal.settings.var_dir / "tracker.db"
    url = {
        "unreachable": "postgresql+asyncpg://nobody@127.0.0.1:1/nothing",
        "read-only": f"sqlite+aiosqlite:///file:{tracker_file}?mode=ro&uri=true",
    }[store]
    portal.app.ctx.settings = portal.settings.with_overrides(tracker_database_url=url)

    refused = await admin.post(f"{PAGE}/{NGUYEN}", {"confirmation": NGUYEN})

    assert refused.status_code == 503
    assert "rien n'a été effacé" in unescape(refused.text)
    assert "web-nguyen" in await tracker_senders(portal.settings)
    async with portal.sessions() as session:
        assert await session.scalar(select(Account).where(Account.email == MINH)) is not None
    assert await audit_entries(portal.sessions, HOUSEHOLD_ERASED) == []
