"""The logged-in page's widget token is single-use and bound to the conversation that redeems it
first (issue 9: "the widget session_token is not single-use nor bound to a conversation").

Before: the same token verified any number of conversations, for its whole life (5 minutes).
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.errors import InvalidInput, NotAuthenticated, TokenInvalid
from bot.portal.models import Account, ConversationGrant, utcnow
from bot.portal.models.widget_token import RedeemedWidgetToken
from bot.portal.services import tenant_login, verification
from bot.portal.services.passwords import hash_password
from bot.settings import Settings
from tests.portal.support import GOOD_PASSWORD, Portal, hidden_fields

CLAIRE = "claire.dupont@example.org"
TOKEN_PATH = "/api/v1/verifications/session-token"
HTML = {"Accept": "text/html"}


async def claire_id(sessions: sessionmaker) -> int:
    async with sessions() as session:
        return await session.scalar(select(Account.id).where(Account.email == CLAIRE))


async def redeem(
    sessions: sessionmaker, settings: Settings, token: str, conversation_id: str
) -> ConversationGrant:
    async with sessions.begin() as session:
        return await tenant_login.redeem_widget_token(
            session=session, settings=settings, conversation_id=conversation_id, token=token
        )


async def live_grant(sessions: sessionmaker, conversation_id: str) -> ConversationGrant:
    async with sessions() as session:
        return await verification.current_grant(session=session, conversation_id=conversation_id)


async def grants_of(sessions: sessionmaker, conversation_id: str) -> list[ConversationGrant]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(ConversationGrant).where(
                    ConversationGrant.conversation_id == conversation_id
                )
            )
        )


@pytest.fixture
async def token(sessions: sessionmaker, portal_settings: Settings) -> str:
    return tenant_login.mint_widget_token(
        settings=portal_settings, account_id=await claire_id(sessions), now=utcnow()
    )


# --------------------------------------------------------------------------- service


async def test_a_token_verifies_the_first_conversation_only(
    sessions: sessionmaker, portal_settings: Settings, token: str
) -> None:
    grant = await redeem(sessions, portal_settings, token, "socketio:page")
    assert (grant.conversation_id, grant.method) == ("socketio:page", "session_token")

    with pytest.raises(TokenInvalid) as replayed:
        await redeem(sessions, portal_settings, token, "rest:thief")

    assert replayed.value.code == "session_token_used"
    assert await grants_of(sessions, "rest:thief") == []
    with pytest.raises(NotAuthenticated):
        await live_grant(sessions, "rest:thief")
    assert (await live_grant(sessions, "socketio:page")).id == grant.id


async def test_a_replay_in_the_same_conversation_changes_nothing(
    sessions: sessionmaker, portal_settings: Settings, token: str
) -> None:
    grant = await redeem(sessions, portal_settings, token, "socketio:page")

    with pytest.raises(TokenInvalid) as replayed:
        await redeem(sessions, portal_settings, token, "socketio:page")

    assert replayed.value.code == "session_token_used"
    (only,) = await grants_of(sessions, "socketio:page")
    assert only.id == grant.id and only.revoked_at is None


async def test_each_view_of_the_page_mints_its_own_token(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    account_id, now = await claire_id(sessions), utcnow()
    first, second = (
        tenant_login.mint_widget_token(settings=portal_settings, account_id=account_id, now=now)
        for _ in range(2)
    )
    assert first != second  # same account, same second: the jti differs

    await redeem(sessions, portal_settings, first, "socketio:tab-1")
    await redeem(sessions, portal_settings, second, "socketio:tab-2")

    assert (await live_grant(sessions, "socketio:tab-2")).account_id == account_id


async def test_a_token_minted_without_a_jti_is_single_use_too(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    legacy = verification.mint_session_token(
        settings=portal_settings, account_id=await claire_id(sessions), now=utcnow()
    )
    await redeem(sessions, portal_settings, legacy, "socketio:page")

    with pytest.raises(TokenInvalid) as replayed:
        await redeem(sessions, portal_settings, legacy, "rest:thief")
    assert replayed.value.code == "session_token_used"


@pytest.mark.parametrize(
    ("forge", "code"),
    [
        (
            lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
            "session_token_invalid",
        ),
        (lambda token: "", "session_token_invalid"),
        (lambda token: "not.a-token", "session_token_invalid"),
    ],
)
async def test_a_refused_token_records_nothing(
    sessions: sessionmaker, portal_settings: Settings, token: str, forge, code: str
) -> None:
    with pytest.raises(TokenInvalid) as refused:
        await redeem(sessions, portal_settings, forge(token), "socketio:page")

    assert refused.value.code == code
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RedeemedWidgetToken)) == 0
    # The genuine token was not spent by the forgeries.
    await redeem(sessions, portal_settings, token, "socketio:page")


async def test_an_expired_token_is_refused_as_expired(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    old = tenant_login.mint_widget_token(
        settings=portal_settings,
        account_id=await claire_id(sessions),
        now=utcnow() - timedelta(seconds=portal_settings.session_token_seconds + 1),
    )
    with pytest.raises(TokenInvalid) as refused:
        await redeem(sessions, portal_settings, old, "socketio:page")
    assert refused.value.code == "session_token_expired"


async def test_without_a_conversation_the_token_is_not_spent(
    sessions: sessionmaker, portal_settings: Settings, token: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await redeem(sessions, portal_settings, token, "")
    assert refused.value.code == "missing_conversation"

    await redeem(sessions, portal_settings, token, "socketio:page")


async def test_records_of_expired_tokens_are_purged(
    sessions: sessionmaker, portal_settings: Settings, token: str
) -> None:
    async with sessions.begin() as session:
        session.add(
            RedeemedWidgetToken(
                jti="x" * 22,
                redeemed_at=utcnow() - timedelta(minutes=10),
                expires_at=utcnow() - timedelta(minutes=5),
            )
        )

    await redeem(sessions, portal_settings, token, "socketio:page")

    async with sessions() as session:
        kept = list(await session.scalars(select(RedeemedWidgetToken.jti)))
    assert len(kept) == 1 and kept[0] != "x" * 22


# --------------------------------------------------------------------------- over HTTP


async def page_token(portal: Portal) -> str:
    """Log in to the tenant page as Claire (password set in the database) and read its token."""
    async with portal.sessions.begin() as session:
        account = await session.scalar(select(Account).where(Account.email == CLAIRE))
        account.password_hash = hash_password(GOOD_PASSWORD)
    login = await portal.client.get("/espace-locataire/connexion", headers=HTML)
    form = {**hidden_fields(login.text), "email": CLAIRE, "mot_de_passe": GOOD_PASSWORD}
    logged_in = await portal.client.post("/espace-locataire/connexion", data=form, headers=HTML)
    assert logged_in.status_code == 303, logged_in.text
    page = await portal.client.get("/espace-locataire", headers=HTML)
    return re.search(r'data-session-token="([^"]+)"', page.text).group(1)


async def test_the_pages_token_verifies_one_conversation_over_the_api(portal: Portal) -> None:
    token = await page_token(portal)

    first = await portal.api(TOKEN_PATH, {"token": token}, conversation_id="socketio:page")
    second = await portal.api(TOKEN_PATH, {"token": token}, conversation_id="rest:thief")

    assert first.status_code == 200
    assert (second.status_code, second.json()["error"]) == (410, "session_token_used")
    me = await portal.client.get("/api/v1/me", headers=portal.headers("rest:thief"))
    assert (me.status_code, me.json()["error"]) == (401, "not_verified")
    me = await portal.client.get("/api/v1/me", headers=portal.headers("socketio:page"))
    assert me.status_code == 200 and me.json()["email"] == CLAIRE


async def test_concurrent_redemptions_verify_one_conversation(portal: Portal) -> None:
    token = await page_token(portal)

    answers = await asyncio.gather(
        *(
            portal.api(TOKEN_PATH, {"token": token}, conversation_id=f"rest:racer-{number}")
            for number in range(8)
        )
    )

    assert sorted(answer.status_code for answer in answers) == [200] + [410] * 7
    async with portal.sessions() as session:
        verified = await session.scalar(
            select(func.count())
            .select_from(ConversationGrant)
            .where(ConversationGrant.conversation_id.like("rest:racer-%"))
        )
    assert verified == 1
