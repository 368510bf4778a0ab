"""Takeover over a real socket: the queue, taking a conversation (the bot pauses), replying on
the tenant's channel, the live feed, handing back (the bot resumes). Rasa's HTTP API is played
by a small fake server on loopback that checks the token and records every call."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.orm import sessionmaker

from bot.policy.french_dates import FRANCE
from bot.policy.opening_hours import DAY_NAMES, is_public_holiday
from bot.portal.models import HandoffRequest, utcnow
from bot.settings import Settings
from bot.staff.services import accounts
from bot.staff.takeover import transcript
from bot.staff.takeover.rasa_api import RasaClient, RasaRejected, RasaUnavailable
from bot.staff.web.takeover import HANDED_BACK, REPLIED, TAKEN
from tests.portal.support import GOOD_PASSWORD, Portal, serve
from tests.staff.support import (
    ADMIN_EMAIL,
    AGENT_EMAIL,
    StaffBrowser,
    audit_entries,
    recent,
    staff_account,
)

TOKEN = "rasa-token-for-tests"
QUEUE = "/staff/reprises"
OTHER_AGENT = "chloe.agent@example.org"
RASA_DOWN = "L'assistant ne répond pas pour le moment : rien n'a été fait."
_apps = iter(range(1, 10_000))


# --------------------------------------------------------------------------- a fake Rasa


@dataclass
class FakeRasa:
    """Rasa's HTTP API as the console uses it: trackers in memory, every call kept."""

    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    trackers: dict[str, dict[str, Any]] = field(default_factory=dict)
    failing: bool = False

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        return self.trackers.setdefault(
            conversation_id,
            {
                "sender_id": conversation_id,
                "events": [],
                "paused": False,
                "latest_input_channel": None,
            },
        )

    def tenant_says(self, conversation_id: str, text: str, channel: str = "socketio") -> float:
        tracker = self.tracker(conversation_id)
        stamp = time.time()
        tracker["events"].append(
            {"event": "user", "text": text, "timestamp": stamp, "input_channel": channel}
        )
        tracker["latest_input_channel"] = channel
        return stamp

    def events_sent(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [
            event
            for call in self.calls
            if call["method"] == "POST"
            and (conversation_id is None or call["conversation_id"] == conversation_id)
            for event in call["body"]
        ]

    def app(self) -> Sanic:
        app = Sanic(f"fake_rasa_{next(_apps)}")

        def refused(request: Request) -> HTTPResponse | None:
            if self.failing:
                return json_response({"error": "down"}, status=500)
            if request.args.get("token") != TOKEN:
                return json_response({"reason": "NotAuthenticated"}, status=401)
            return None

        @app.post("/conversations/<conversation_id:path>/tracker/events")
        async def append(request: Request, conversation_id: str) -> HTTPResponse:
            self.calls.append(
                {
                    "method": "POST",
                    "conversation_id": conversation_id,
                    "args": {key: request.args.get(key) for key in request.args},
                    "body": request.json,
                }
            )
            if answer := refused(request):
                return answer
            tracker = self.tracker(conversation_id)
            for event in request.json:
                tracker["events"].append({**event, "timestamp": time.time()})
                if event["event"] in ("pause", "resume"):
                    tracker["paused"] = event["event"] == "pause"
            return json_response({"sender_id": conversation_id})

        @app.get("/conversations/<conversation_id:path>/tracker")
        async def read(request: Request, conversation_id: str) -> HTTPResponse:
            self.calls.append({"method": "GET", "conversation_id": conversation_id})
            if answer := refused(request):
                return answer
            return json_response(self.tracker(conversation_id))

        return app


@pytest.fixture
def rasa_socket() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(settings: Settings, rasa_socket: socket.socket) -> Settings:
    """The portal reaches the fake Rasa, with its token."""
    port = rasa_socket.getsockname()[1]
    return settings.with_overrides(
        rasa_internal_url=f"http://127.0.0.1:{port}/", rasa_api_token=TOKEN
    )


@pytest.fixture
async def rasa(rasa_socket: socket.socket, settings: Settings) -> AsyncIterator[FakeRasa]:
    fake = FakeRasa(url=settings.rasa_api_url)
    async with serve(fake.app(), rasa_socket):
        yield fake


@pytest.fixture
async def other_agent(
    staff: dict, sessions: sessionmaker, new_browser: Callable[[], StaffBrowser]
) -> StaffBrowser:
    async with sessions.begin() as session:
        await accounts.create_staff_account(
            session=session,
            email=OTHER_AGENT,
            display_name="Chloé Agent",
            role="agent",
            password=GOOD_PASSWORD,
            actor_id=staff["admin"].id,
        )
    browser = new_browser()
    assert (await browser.login(OTHER_AGENT)).status_code == 303
    return browser


# --------------------------------------------------------------------------- helpers


async def ask_for_a_person(
    portal: Portal,
    conversation_id: str = "sio-tenant-1",
    *,
    channel: str = "socketio",
    reason: str = "tenant_asked",
    topic: str = "pay_rent",
) -> int:
    """What action_handoff sends; the request's id."""
    body = {"conversation_id": conversation_id, "channel": channel, "reason": reason}
    response = await portal.api("/api/v1/handoffs", {**body, "topic": topic})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def handoff_row(portal: Portal, handoff_id: int) -> HandoffRequest:
    async with portal.sessions() as session:
        return await session.get(HandoffRequest, handoff_id)


def text_of(page: httpx.Response) -> str:
    """The page's text, entities undone, tags and line breaks flattened."""
    plain = re.sub(r"<[^>]+>", " ", page.text).replace("&#39;", "'").replace("&amp;", "&")
    return " ".join(plain.split())


async def take(browser: StaffBrowser, handoff_id: int) -> httpx.Response:
    return await browser.post(f"{QUEUE}/{handoff_id}/prise")


async def taken_by_agent(portal: Portal, agent: StaffBrowser, rasa: FakeRasa) -> int:
    rasa.tenant_says("sio-tenant-1", "je veux parler à un conseiller")
    handoff_id = await ask_for_a_person(portal)
    assert (await take(agent, handoff_id)).status_code == 303
    return handoff_id


# --------------------------------------------------------------------------- the queue


async def test_the_queue_shows_what_the_portal_knows(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    await ask_for_a_person(portal, "sio-tenant-1")
    await ask_for_a_person(
        portal, "4242", channel="telegram", reason="bot_gave_up", topic="update_insurance"
    )

    page = await agent.client.get(QUEUE)

    assert page.status_code == 200 and 'aria-current="page">Reprises' in page.text
    text = text_of(page)
    assert "2 demande(s) en cours" in text
    assert "sio-tenant-1 site web (widget) a demandé un conseiller paiement du loyer" in text
    assert "4242 Telegram l'assistant n'a pas compris plusieurs messages de suite" in text
    assert "assurance habitation" in text and text.count("en attente") == 2
    assert "Horaires du service (lun-ven 08:30-17:30, heure de Paris)" in text
    assert '<form method="post" action="/staff/reprises/1/prise">' in page.text


async def test_asking_again_updates_the_open_request(portal: Portal) -> None:
    first = await ask_for_a_person(portal, "c-1", reason="bot_gave_up", topic="")
    again = await ask_for_a_person(portal, "c-1", reason="tenant_asked", topic="pay_rent")
    gave_up_later = await ask_for_a_person(portal, "c-1", reason="bot_gave_up", topic="")

    assert first == again == gave_up_later
    row = await handoff_row(portal, first)
    assert (row.reason, row.topic, row.status) == ("tenant_asked", "pay_rent", "waiting")


async def test_the_handoff_answer_says_when_staff_are_there(portal: Portal) -> None:
    # Open only one day, 10:00 to 11:00, two to six days ahead and not a public holiday:
    # closed now, whatever the time, and the next opening is that day this week.
    today = datetime.now(FRANCE).date()
    ahead = next(
        today + timedelta(days=n)
        for n in range(2, 7)
        if not is_public_holiday(today + timedelta(days=n))
    )
    day = ahead.weekday()
    hours = f"{DAY_NAMES[day][:3]} 10:00-11:00"
    portal.app.ctx.settings = portal.settings.with_overrides(staff_opening_hours=hours)

    answer = (
        await portal.api("/api/v1/handoffs", {"conversation_id": "c", "reason": "tenant_asked"})
    ).json()

    assert answer["open_now"] is False
    assert answer["next_opening_text"] == f"{DAY_NAMES[day]} à 10 h"
    opening = datetime.fromisoformat(answer["next_opening"])
    assert opening.astimezone(FRANCE).weekday() == day and opening > utcnow()

    portal.app.ctx.settings = portal.settings.with_overrides(staff_opening_hours="lun-dim 0h-24h")
    answer = (
        await portal.api("/api/v1/handoffs", {"conversation_id": "c", "reason": "tenant_asked"})
    ).json()
    assert answer == {"id": 1, "status": "recorded", "open_now": True}


# --------------------------------------------------------------------------- take


async def test_taking_pauses_the_bot_and_is_recorded_with_who_and_when(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await ask_for_a_person(portal, "+33612345678", channel="sms")

    response = await take(agent, handoff_id)

    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}/{handoff_id}?fait=prise"
    (call,) = [c for c in rasa.calls if c["method"] == "POST"]
    # The phone number stays as it is in the path: Rasa's router does not decode %2B.
    assert call["conversation_id"] == "+33612345678"
    assert call["body"] == [{"event": "pause"}] and call["args"]["token"] == TOKEN
    row = await handoff_row(portal, handoff_id)
    agent_account = await staff_account(portal.sessions, AGENT_EMAIL)
    assert row.status == "taken" and row.taken_by_id == agent_account.id
    assert utcnow() - timedelta(minutes=1) < row.taken_at <= utcnow()
    (entry,) = await audit_entries(portal.sessions, TAKEN)
    assert (entry.staff_id, entry.target_type, entry.target_id) == (
        agent_account.id,
        "handoff",
        str(handoff_id),
    )
    assert recent(entry)

    page = await agent.client.get(response.headers["location"])
    text = text_of(page)
    assert "Vous tenez cette conversation" in text
    assert "L'assistant est en pause : il ne répond pas au locataire." in text
    assert "État reprise par Bruno Agent le" in text
    assert 'name="message"' in page.text and "Rendre la main à l'assistant" in text
    queue = text_of(await agent.client.get(QUEUE))
    assert "reprise par Bruno Agent le" in queue


async def test_a_conversation_taken_by_one_agent_cannot_be_taken_by_another(
    portal: Portal, agent: StaffBrowser, other_agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)
    pauses = len(rasa.events_sent())

    refused = await take(other_agent, handoff_id)

    assert refused.status_code == 409
    assert "Cette conversation a déjà été reprise par Bruno Agent." in text_of(refused)
    assert len(rasa.events_sent()) == pauses
    assert len(await audit_entries(portal.sessions, TAKEN)) == 1
    assert (await handoff_row(portal, handoff_id)).taken_by_id == (
        await staff_account(portal.sessions, AGENT_EMAIL)
    ).id
    # Nor answered, nor handed back by them.
    for path, data in (("reponse", {"message": "Bonjour"}), ("restitution", {})):
        response = await other_agent.post(f"{QUEUE}/{handoff_id}/{path}", data)
        assert response.status_code == 409
        assert "Un autre membre du personnel tient cette conversation." in text_of(response)
    assert len(rasa.events_sent()) == pauses


async def test_taking_when_rasa_does_not_answer_changes_nothing(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await ask_for_a_person(portal)
    rasa.failing = True

    response = await take(agent, handoff_id)

    assert response.status_code == 503 and RASA_DOWN in text_of(response)
    assert (await handoff_row(portal, handoff_id)).status == "waiting"
    assert await audit_entries(portal.sessions, TAKEN) == []
    rasa.failing = False
    assert (await take(agent, handoff_id)).status_code == 303


async def test_a_wrong_token_is_not_taken_for_success(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await ask_for_a_person(portal)
    portal.app.ctx.rasa = RasaClient(rasa.url, "wrong-token")

    response = await take(agent, handoff_id)

    assert response.status_code == 503
    assert (await handoff_row(portal, handoff_id)).status == "waiting"


async def test_an_unknown_request_is_a_404(agent: StaffBrowser, rasa: FakeRasa) -> None:
    assert (await agent.client.get(f"{QUEUE}/999")).status_code == 404
    assert (await take(agent, 999)).status_code == 404
    assert (await agent.client.get(f"{QUEUE}/999/messages")).status_code == 404


# --------------------------------------------------------------------------- reply


async def test_the_reply_never_follows_a_message_that_came_in_on_another_channel(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    """Someone who posts to the conversation on REST after the handoff does not get the reply:
    it goes through the channel the conversation id names, not Rasa's ``latest``."""
    conversation = "telegram:987654321"
    rasa.tenant_says(conversation, "je veux parler à un conseiller", channel="telegram")
    handoff_id = await ask_for_a_person(portal, conversation, channel="telegram")
    assert (await take(agent, handoff_id)).status_code == 303
    rasa.tenant_says(conversation, "c'est moi maintenant", channel="rest")

    response = await agent.post(f"{QUEUE}/{handoff_id}/reponse", {"message": "Bonjour !"})

    assert response.status_code == 303
    call = [c for c in rasa.calls if c["method"] == "POST"][-1]
    assert call["args"]["output_channel"] == "telegram"


async def test_the_reply_goes_out_on_the_handoffs_channel(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)

    response = await agent.post(
        f"{QUEUE}/{handoff_id}/reponse", {"message": "  Bonjour, je regarde votre dossier.  "}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}/{handoff_id}?fait=envoye"
    call = [c for c in rasa.calls if c["method"] == "POST"][-1]
    assert call["args"] == {
        "token": TOKEN,
        "output_channel": "socketio",
        "execute_side_effects": "true",
        "include_events": "NONE",
    }
    agent_id = (await staff_account(portal.sessions, AGENT_EMAIL)).id
    assert call["body"] == [
        {
            "event": "bot",
            "text": "Bonjour, je regarde votre dossier.",
            "metadata": {"sent_by": "staff", "staff_id": agent_id},
        }
    ]
    (entry,) = await audit_entries(portal.sessions, REPLIED)
    assert entry.target_id == str(handoff_id) and entry.details is None  # never the message
    page = await agent.client.get(response.headers["location"])
    assert "Votre message a été envoyé." in text_of(page)
    assert "Conseiller" in text_of(page) and "Bonjour, je regarde votre dossier." in page.text


@pytest.mark.parametrize(
    ("message", "why"),
    [("   ", "Écrivez un message avant de l'envoyer."), ("x" * 2001, "dépasse 2000 caractères")],
)
async def test_an_empty_or_too_long_reply_is_refused_and_kept(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa, message: str, why: str
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)
    sent = len(rasa.events_sent())

    response = await agent.post(f"{QUEUE}/{handoff_id}/reponse", {"message": message})

    assert response.status_code == 400 and why in text_of(response)
    assert len(rasa.events_sent()) == sent
    assert await audit_entries(portal.sessions, REPLIED) == []


async def test_a_reply_rasa_did_not_take_is_kept_in_the_form(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)
    rasa.failing = True

    response = await agent.post(f"{QUEUE}/{handoff_id}/reponse", {"message": "Un instant <svp>"})

    assert response.status_code == 503 and RASA_DOWN in text_of(response)
    assert ">Un instant &lt;svp&gt;</textarea>" in response.text
    assert await audit_entries(portal.sessions, REPLIED) == []


async def test_a_waiting_conversation_cannot_be_answered(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await ask_for_a_person(portal)

    response = await agent.post(f"{QUEUE}/{handoff_id}/reponse", {"message": "Bonjour"})

    assert response.status_code == 409 and "Reprenez d'abord la conversation." in text_of(response)
    assert rasa.events_sent() == []


async def test_a_rest_conversation_warns_that_the_tenant_will_not_receive_replies(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    rasa.tenant_says("rest-1", "je veux un conseiller", channel="rest")
    handoff_id = await ask_for_a_person(portal, "rest-1", channel="rest")
    await take(agent, handoff_id)

    page = text_of(await agent.client.get(f"{QUEUE}/{handoff_id}"))

    assert "Ce canal (REST (tests)) ne peut pas recevoir de message" in page
    assert "le locataire ne les recevra pas" in page


# --------------------------------------------------------------------------- the live feed


async def test_the_tenants_new_messages_reach_the_agents_page(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)
    page = await agent.client.get(f"{QUEUE}/{handoff_id}")
    cursor = float(re.search(r'data-cursor="([0-9.]+)"', page.text).group(1))
    assert '<script src="/staff/static/takeover.js" defer></script>' in page.text
    assert "<script>" not in page.text  # CSP: no inline script
    assert f'data-feed-url="/staff/reprises/{handoff_id}/messages"' in page.text

    rasa.tenant_says("sio-tenant-1", "Mon radiateur ne chauffe plus")
    feed = await agent.client.get(f"{QUEUE}/{handoff_id}/messages", params={"depuis": cursor})

    assert feed.status_code == 200 and feed.headers["content-type"] == "application/json"
    assert feed.headers["cache-control"] == "no-store"
    answer = feed.json()
    assert (answer["available"], answer["status"], answer["paused"]) == (True, "taken", True)
    (line,) = answer["lines"]
    assert (line["kind"], line["text"]) == ("tenant", "Mon radiateur ne chauffe plus")
    assert answer["cursor"] == line["timestamp"] > cursor
    again = await agent.client.get(
        f"{QUEUE}/{handoff_id}/messages", params={"depuis": answer["cursor"]}
    )
    assert again.json()["lines"] == [] and again.json()["cursor"] == answer["cursor"]


async def test_the_feed_says_when_rasa_is_unavailable(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)
    rasa.failing = True

    feed = await agent.client.get(f"{QUEUE}/{handoff_id}/messages")
    page = await agent.client.get(f"{QUEUE}/{handoff_id}")

    assert feed.json() == {"available": False, "status": "taken"}
    assert page.status_code == 200
    assert "Le fil de la conversation est momentanément indisponible." in text_of(page)


async def test_the_polling_script_is_served_to_staff_only(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    script = await agent.client.get("/staff/static/takeover.js")

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "setInterval(poll, POLL_MS)" in script.text and "innerHTML" not in script.text
    assert (await portal.client.get("/staff/static/takeover.js")).status_code == 303


def test_the_transcript_lines_of_a_tracker() -> None:
    tracker = {
        "events": [
            {"event": "action", "name": "action_listen", "timestamp": 1.0},
            {"event": "user", "text": "je veux un conseiller", "timestamp": 2.0},
            {
                "event": "bot",
                "text": "Votre question concerne-t-elle l'un de ces sujets ?",
                "data": {"buttons": [{"title": "Mon solde", "payload": "/check_balance"}]},
                "timestamp": 3.0,
            },
            {"event": "pause", "timestamp": 4.0},
            {"event": "bot", "text": "Bonjour", "metadata": {"sent_by": "staff"}, "timestamp": 5},
            {"event": "bot", "text": None, "timestamp": 5.5},
            {"event": "resume", "timestamp": 1767600000.0},
        ]
    }

    lines = transcript.lines(tracker)

    assert [(line.kind, line.text, line.buttons) for line in lines] == [
        ("tenant", "je veux un conseiller", ()),
        ("bot", "Votre question concerne-t-elle l'un de ces sujets ?", ("Mon solde",)),
        ("paused", "", ()),
        ("staff", "Bonjour", ()),
        ("resumed", "", ()),
    ]
    assert lines[-1].time == "09:00"  # 2026-01-05 08:00 UTC, in Paris
    assert [line.kind for line in transcript.lines(tracker, since=3.0)] == [
        "paused",
        "staff",
        "resumed",
    ]


# --------------------------------------------------------------------------- hand back


async def test_handing_back_resumes_the_bot_and_closes_the_request(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)

    response = await agent.post(f"{QUEUE}/{handoff_id}/restitution")

    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}/{handoff_id}?fait=rendue"
    assert rasa.events_sent("sio-tenant-1") == [{"event": "pause"}, {"event": "resume"}]
    row = await handoff_row(portal, handoff_id)
    assert row.status == "closed" and utcnow() - timedelta(minutes=1) < row.closed_at
    (entry,) = await audit_entries(portal.sessions, HANDED_BACK)
    assert entry.target_id == str(handoff_id)
    page = text_of(await agent.client.get(response.headers["location"]))
    assert "La conversation est rendue à l'assistant" in page
    assert "L'assistant répond au locataire." in page and 'name="message"' not in page
    queue = text_of(await agent.client.get(QUEUE))
    assert "0 demande(s) en cours" in queue and "Récemment rendues à l'assistant" in queue
    # Closed: no more replies, no second hand back, no take.
    for path in ("reponse", "restitution", "prise"):
        refused = await agent.post(f"{QUEUE}/{handoff_id}/{path}", {"message": "Encore"})
        assert refused.status_code == 409
    assert len(rasa.events_sent()) == 2
    # A new request of the same conversation starts a new takeover.
    assert await ask_for_a_person(portal) != handoff_id


async def test_an_admin_may_act_on_a_conversation_an_agent_holds(
    portal: Portal, agent: StaffBrowser, admin: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)

    assert (
        await admin.post(f"{QUEUE}/{handoff_id}/reponse", {"message": "Relais"})
    ).status_code == 303
    assert (await admin.post(f"{QUEUE}/{handoff_id}/restitution")).status_code == 303

    (entry,) = await audit_entries(portal.sessions, HANDED_BACK)
    assert entry.staff_id == (await staff_account(portal.sessions, ADMIN_EMAIL)).id


async def test_taking_again_pauses_a_bot_that_restarted(
    portal: Portal, agent: StaffBrowser, rasa: FakeRasa
) -> None:
    handoff_id = await taken_by_agent(portal, agent, rasa)
    rasa.tracker("sio-tenant-1")["paused"] = False  # a new session after an hour of silence

    page = text_of(await agent.client.get(f"{QUEUE}/{handoff_id}"))
    assert "l'assistant n'est plus en pause" in page and "Remettre l'assistant en pause" in page

    assert (await take(agent, handoff_id)).status_code == 303
    assert rasa.events_sent() == [{"event": "pause"}, {"event": "pause"}]
    assert rasa.tracker("sio-tenant-1")["paused"] is True


# --------------------------------------------------------------------------- the client


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> RasaClient:
    return RasaClient("http://rasa.test/", "t0k", transport=httpx.MockTransport(handler))


async def test_the_client_sends_the_token_and_keeps_ids_readable() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"events": []})

    client = _client(handler)
    await client.resume("a b/é+1")
    await client.tracker("4242")
    await client.aclose()

    assert seen[0].url.raw_path.decode() == (
        "/conversations/a%20b/%C3%A9+1/tracker/events?include_events=NONE&token=t0k"
    )
    assert json.loads(seen[0].content) == [{"event": "resume"}]
    assert seen[1].url.raw_path.decode() == "/conversations/4242/tracker?token=t0k"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(401, json={"reason": "NotAuthenticated"}), RasaRejected),
        (httpx.Response(400, json={"reason": "BadRequest"}), RasaRejected),
        (httpx.Response(500, json={}), RasaUnavailable),
        (httpx.Response(200, text="<html>"), RasaUnavailable),
        (httpx.ConnectError("refused"), RasaUnavailable),
        (httpx.ReadTimeout("slow"), RasaUnavailable),
    ],
)
async def test_the_client_failures(answer: httpx.Response | Exception, error: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = _client(handler)
    with pytest.raises(error):
        await client.pause("c")
    await client.aclose()


def test_rasas_internal_url_defaults_to_its_port_on_this_machine() -> None:
    assert Settings(rasa_port=5999).rasa_api_url == "http://127.0.0.1:5999"
    assert Settings(rasa_internal_url="http://rasa:5005/").rasa_api_url == "http://rasa:5005"
