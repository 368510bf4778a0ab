"""Verified conversations: emailed one-time codes, widget session tokens, the grant they give."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.portal.models import Account, VerificationChallenge, utcnow
from bot.portal.services.verification import mint_session_token
from tests.portal.support import Mailbox, Portal

CLAIRE = "claire.dupont@example.org"


async def emailed_code(mailbox: Mailbox, portal: Portal, to: str) -> str:
    await portal.deliver_now()
    email = await mailbox.wait_for(to=to, subject="code de vérification")
    return re.search(r"\b(\d{6})\b", email.text).group(1)


async def start(portal: Portal, conversation: str, **details: str):
    return await portal.api("/api/v1/verifications", details, conversation_id=conversation)


async def confirm(portal: Portal, conversation: str, code: str):
    return await portal.api(
        "/api/v1/verifications/code", {"code": code}, conversation_id=conversation
    )


async def me(portal: Portal, conversation: str):
    return await portal.client.get("/api/v1/me", headers=portal.headers(conversation))


async def test_code_by_email_verifies_the_conversation_and_opens_the_balance(portal, mailbox):
    assert (await start(portal, "c1", email=CLAIRE)).status_code == 202
    code = await emailed_code(mailbox, portal, CLAIRE)
    assert (await me(portal, "c1")).status_code == 401

    wrong = await confirm(portal, "c1", "000000" if code != "000000" else "111111")
    assert wrong.status_code == 400 and wrong.json()["attempts_left"] == 4
    assert (await confirm(portal, "c1", code[:3] + " " + code[3:])).status_code == 200

    profile = (await me(portal, "c1")).json()
    assert profile["email"] == CLAIRE and profile["total_due"] == "412.50"
    assert [lease["balance_due"] for lease in profile["leases"]] == ["412.50"]
    # The grant belongs to that conversation only.
    assert (await me(portal, "someone-else")).status_code == 401


async def test_client_number_and_surname_also_start_a_verification(portal, mailbox):
    response = await start(portal, "c2", client_number="1122 3344", surname="NGUYEN")
    assert response.status_code == 202
    code = await emailed_code(mailbox, portal, "minh.nguyen@example.org")
    assert (await confirm(portal, "c2", code)).status_code == 200
    assert len((await me(portal, "c2")).json()["leases"]) == 2


async def test_unknown_details_get_the_same_answer_and_no_code_can_work(portal, mailbox):
    known = await start(portal, "c3", email=CLAIRE)
    unknown = await start(portal, "c4", email="personne@example.org")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    for code in ("123456", "000000"):
        assert (await confirm(portal, "c4", code)).json()["error"] == "wrong_code"
    assert mailbox.emails("personne@example.org") == []


async def test_five_wrong_codes_end_the_challenge(portal, mailbox):
    await start(portal, "c5", email=CLAIRE)
    code = await emailed_code(mailbox, portal, CLAIRE)
    wrong = "999999" if code != "999999" else "888888"
    statuses = [(await confirm(portal, "c5", wrong)).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    assert (await confirm(portal, "c5", code)).status_code == 410
    assert (await me(portal, "c5")).status_code == 401


async def test_an_expired_code_is_refused(portal, mailbox):
    await start(portal, "c6", email=CLAIRE)
    code = await emailed_code(mailbox, portal, CLAIRE)
    async with portal.sessions.begin() as session:
        await session.execute(
            update(VerificationChallenge).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await confirm(portal, "c6", code)
    assert (response.status_code, response.json()["error"]) == (410, "code_expired")


async def test_a_pending_account_gets_no_code(portal, mailbox):
    await start(portal, "c7", email="j.schmitt@example.org")
    await portal.deliver_now()
    assert mailbox.emails("j.schmitt@example.org") == []


async def account_id(portal: Portal, email: str) -> int:
    async with portal.sessions() as session:
        return await session.scalar(select(Account.id).where(Account.email == email))


async def test_a_signed_session_token_verifies_without_a_code(portal):
    token = mint_session_token(
        settings=portal.settings, account_id=await account_id(portal, CLAIRE), now=utcnow()
    )
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = await portal.api(
        "/api/v1/verifications/session-token", {"token": tampered}, conversation_id="w1"
    )
    assert bad.status_code == 410
    good = await portal.api(
        "/api/v1/verifications/session-token", {"token": token}, conversation_id="w1"
    )
    assert good.status_code == 200
    assert (await me(portal, "w1")).json()["email"] == CLAIRE


async def test_an_expired_session_token_is_refused(portal):
    token = mint_session_token(
        settings=portal.settings,
        account_id=await account_id(portal, CLAIRE),
        now=utcnow() - timedelta(hours=1),
    )
    response = await portal.api(
        "/api/v1/verifications/session-token", {"token": token}, conversation_id="w2"
    )
    assert (response.status_code, response.json()["error"]) == (410, "session_token_expired")


async def test_ending_the_verification_closes_account_data(portal, mailbox):
    await start(portal, "c8", email=CLAIRE)
    await confirm(portal, "c8", await emailed_code(mailbox, portal, CLAIRE))
    assert (await me(portal, "c8")).status_code == 200
    await portal.client.delete("/api/v1/verifications", headers=portal.headers("c8"))
    assert (await me(portal, "c8")).status_code == 401
