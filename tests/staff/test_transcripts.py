"""Transcripts in the staff console: the conversation index built from a synthetic ``events``
table (Rasa's tracker store schema), the list's filters, search and pages, the transcript,
tags / notes / reviews (audited), exports. The portal side runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.policy.french_dates import FRANCE
from bot.portal.models import (
    Account,
    ConversationGrant,
    ConversationSummary,
    ConversationTag,
    ReviewStatus,
    utcnow,
)
from bot.settings import Settings, rasa_tracker_url
from bot.staff.transcripts import annotations, index, queries
from bot.staff.transcripts.digest import fold
from bot.staff.transcripts.synthetic import (
    Turn,
    conversation_rows,
    create_events_table,
    write_rows,
)
from bot.staff.transcripts.tracker import TrackerStore, TrackerUnavailable, readonly_url
from tests.portal.support import Portal
from tests.staff.support import RasaEvents, StaffBrowser, audit_entries

LIST = "/staff/conversations"
DUPONT = "claire.dupont@example.org"


def at(day: int, hour: int = 12, month: int = 3, year: int = 2025) -> float:
    """A Paris time as Rasa's timestamps (epoch seconds)."""
    return datetime(year, month, day, hour, tzinfo=FRANCE).timestamp()


async def refresh(sessions: sessionmaker, settings: Settings, **options: Any) -> index.IndexRefresh:
    store = TrackerStore(settings.resolved_tracker_database_url)
    try:
        async with sessions.begin() as session:
            return await index.refresh_index(session=session, store=store, **options)
    finally:
        await store.close()


async def summaries(sessions: sessionmaker) -> dict[str, ConversationSummary]:
    async with sessions() as session:
        found = await session.scalars(select(ConversationSummary))
        return {summary.conversation_id: summary for summary in found}


def listed(page: str) -> list[str]:
    """Conversation ids of a list page, in their order."""
    return re.findall(r'<a class="cid" href="[^"]+">([^<]+)</a>', page)


async def grant(sessions: sessionmaker, conversation_id: str, email: str = DUPONT) -> None:
    async with sessions.begin() as session:
        account = await session.scalar(select(Account).where(Account.email == email))
        session.add(
            ConversationGrant(
                conversation_id=conversation_id,
                account_id=account.id,
                household_id=account.household_id,
                method="email_code",
                expires_at=utcnow() + timedelta(minutes=30),
            )
        )


HELLO = Turn("Bonjour", "greet")
HANDOFF = Turn(
    "je veux parler à un conseiller",
    "human_handoff",
    actions=("action_handoff",),
    reply="Je transmets votre demande à un conseiller.",
)
NOT_UNDERSTOOD = Turn(
    "blorp zzz", "nlu_fallback", 0.31, actions=("action_suggest_topics",), reply="Voici mes sujets."
)


# --------------------------------------------------------------------------- the index


async def test_the_index_digests_each_conversation_of_the_events_table(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    await rasa.talk("web-1", HELLO, Turn("Mon ÉVIER fuit", "out_of_scope"), start=at(1))
    await rasa.talk("tg-1", HANDOFF, start=at(2), channel="telegram")
    await rasa.talk("sms-1", NOT_UNDERSTOOD, HELLO, start=at(3), channel="sms")
    await grant(sessions, "tg-1")

    done = await refresh(sessions, portal_settings)

    found = await summaries(sessions)
    assert done.conversations == 3 and done.caught_up and set(found) == {"web-1", "tg-1", "sms-1"}
    web, tg, sms = found["web-1"], found["tg-1"], found["sms-1"]
    assert (web.channel, tg.channel, sms.channel) == ("socketio", "telegram", "sms")
    assert (web.turns, tg.turns, sms.turns) == (2, 1, 2)
    assert web.intents == " greet out_of_scope " and sms.intents == " greet nlu_fallback "
    assert (web.had_fallback, tg.had_fallback, sms.had_fallback) == (False, False, True)
    assert (web.had_handoff, tg.had_handoff, sms.had_handoff) == (False, True, False)
    assert (web.client_number, tg.client_number) == (None, "87654321")
    assert web.search_text == "bonjour\nmon evier fuit"
    assert web.first_at == at(1) and web.last_at > web.first_at
    assert web.last_event_id < tg.first_event_id and tg.last_event_id < sms.first_event_id
    assert {s.review_status for s in found.values()} == {ReviewStatus.PENDING}


async def test_refreshing_reads_only_new_events_and_reopens_reviewed_conversations(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents, staff: dict
) -> None:
    await rasa.talk("web-1", HELLO, start=at(1))
    await rasa.talk("web-2", HELLO, start=at(1, 13))
    await refresh(sessions, portal_settings)
    async with sessions.begin() as session:
        web1 = await queries.find_summary(session=session, conversation_id="web-1")
        await annotations.set_review(
            session=session, summary=web1, status=ReviewStatus.REVIEWED, staff_id=staff["agent"].id
        )

    assert await refresh(sessions, portal_settings) == index.IndexRefresh()  # nothing new
    await rasa.talk("web-1", Turn("et mon loyer ?", "pay_rent"), start=at(2))
    done = await refresh(sessions, portal_settings)

    found = await summaries(sessions)
    assert (done.conversations, found["web-1"].turns, found["web-2"].turns) == (1, 2, 1)
    assert found["web-1"].intents == " greet pay_rent "
    assert found["web-1"].last_at >= at(2) and found["web-1"].first_at == at(1)
    assert found["web-1"].review_status == ReviewStatus.PENDING
    assert found["web-1"].reviewed_by_id == staff["agent"].id  # the last review stays known


async def test_a_page_view_indexes_a_bounded_number_of_events(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    for number in range(6):
        await rasa.talk(f"c-{number}", HELLO, start=at(1, 8 + number))  # 8 events each

    first = await refresh(sessions, portal_settings, max_events=20)
    rest = await refresh(sessions, portal_settings)

    assert (first.events, first.caught_up, first.behind) == (20, False, 28)
    assert rest.caught_up and sum(s.events for s in (await summaries(sessions)).values()) == 48


async def test_events_committed_late_below_the_newest_are_still_indexed(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    # Two Rasa servers on PostgreSQL: id 4 is committed after id 5 was already read.
    rows = conversation_rows("late", [HELLO, Turn("payer", "pay_rent")], start=at(1))
    numbered = [{**row, "id": number} for number, row in enumerate(rows, start=1)]
    late = numbered.pop(3)  # the first tenant message
    await rasa.rows(numbered)
    first = await refresh(sessions, portal_settings)

    await rasa.rows([late])
    second = await refresh(sessions, portal_settings)
    nothing = await refresh(sessions, portal_settings)

    summary = (await summaries(sessions))["late"]
    assert (first.events, second.events) == (len(rows) - 1, 1)
    assert summary.turns == 2 and summary.events == len(rows)
    assert summary.intents == " greet pay_rent "
    assert nothing.events == 0


async def test_concurrent_refreshes_count_each_event_once(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    for number in range(30):
        await rasa.talk(f"c-{number}", HELLO, HELLO, start=at(1, 8) + number * 60)

    results = await asyncio.gather(*(refresh(sessions, portal_settings) for _ in range(4)))

    assert sum(result.events for result in results) == 30 * 13
    assert {s.turns for s in (await summaries(sessions)).values()} == {2}


async def test_a_replaced_tracker_store_is_indexed_again_keeping_staff_annotations(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents, staff: dict
) -> None:
    await rasa.talk("kept", HELLO, HELLO, HELLO, start=at(1))
    await rasa.talk("gone", HELLO, start=at(2))
    await refresh(sessions, portal_settings)
    async with sessions.begin() as session:
        kept = await queries.find_summary(session=session, conversation_id="kept")
        await annotations.add_tag(session=session, summary=kept, tag="suivi", staff_id=None)
    async with rasa.engine.begin() as connection:  # e.g. tracker.db deleted in development
        await connection.execute(text("DROP TABLE events"))
    await create_events_table(rasa.engine)
    await rasa.talk("kept", HELLO, start=at(5))

    await refresh(sessions, portal_settings)

    found = await summaries(sessions)
    assert (found["kept"].turns, found["kept"].first_at, found["gone"].events) == (1, at(5), 0)
    async with sessions() as session:
        tags = await queries.tags_of(session, [found["kept"].id])
        page = await queries.list_page(session=session, filters=queries.ConversationFilters())
    assert tags == {found["kept"].id: ["suivi"]}
    assert [s.conversation_id for s in page.summaries] == ["kept"]  # "gone" is not listed


async def test_no_tracker_store_yet_means_no_conversations(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    assert not Path(portal_settings.var_dir / "tracker.db").exists()

    assert await refresh(sessions, portal_settings) == index.IndexRefresh()

    assert not Path(portal_settings.var_dir / "tracker.db").exists()  # not created by reading


async def test_the_tracker_store_is_opened_read_only(
    portal_settings: Settings, rasa: RasaEvents
) -> None:
    await rasa.talk("web-1", HELLO, start=at(1))
    store = TrackerStore(portal_settings.resolved_tracker_database_url)
    try:
        async with store.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="readonly"):
                await connection.execute(text("DELETE FROM events"))
    finally:
        await store.close()
    async with rasa.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM events")) == 8


@pytest.mark.postgres
async def test_a_postgresql_tracker_store_is_read_and_never_written(postgres_url: str) -> None:
    writer = create_async_engine(postgres_url)
    try:
        async with writer.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS events"))
        await create_events_table(writer)
        await write_rows(writer, conversation_rows("pg-1", [HANDOFF], start=at(1)))
        store = TrackerStore(postgres_url)
        try:
            async with store.connect() as connection:
                transcript = await queries.read_transcript(
                    connection=connection, conversation_id="pg-1"
                )
                with pytest.raises(DBAPIError, match="read-only"):
                    await connection.execute(text("DELETE FROM events"))
        finally:
            await store.close()
    finally:
        async with writer.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS events"))
        await writer.dispose()
    assert [item.kind for item in transcript.items] == [
        "session",
        "tenant",
        "action",
        "bot",
    ]


async def test_an_unreachable_tracker_store_is_reported() -> None:
    store = TrackerStore("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    try:
        with pytest.raises(TrackerUnavailable):
            async with store.connect():
                pass
    finally:
        await store.close()


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ""),
        (
            {"RASA_TRACKER_DIALECT": "sqlite", "RASA_TRACKER_DB": "/srv/var/tracker.db"},
            "sqlite+aiosqlite:////srv/var/tracker.db",
        ),
        (
            {
                "RASA_TRACKER_DIALECT": "postgresql",
                "RASA_TRACKER_HOST": "db.internal:5433",
                "RASA_TRACKER_DB": "rasa",
            },
            "postgresql+asyncpg://db.internal:5433/rasa",
        ),
        (
            {
                "RASA_TRACKER_DIALECT": "postgresql",
                "RASA_TRACKER_HOST": "postgresql://rasa:s3cret@db/rasa",
            },
            "postgresql+asyncpg://rasa:s3cret@db/rasa",
        ),
    ],
)
def test_the_tracker_url_follows_what_rasa_is_given(env: dict, expected: str) -> None:
    assert rasa_tracker_url(env) == expected


def test_the_tracker_url_defaults_to_the_run_commands_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RASA_TRACKER_DIALECT", "TRACKER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_VAR_DIR", str(tmp_path))
    settings = Settings.from_env()
    assert settings.resolved_tracker_database_url == f"sqlite+aiosqlite:///{tmp_path}/tracker.db"
    assert readonly_url(settings.resolved_tracker_database_url).query == {
        "mode": "ro",
        "uri": "true",
    }
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql+asyncpg://reader@replica/rasa")
    assert Settings.from_env().resolved_tracker_database_url.endswith("@replica/rasa")


# --------------------------------------------------------------------------- the list page


@pytest.fixture
async def five(sessions: sessionmaker, rasa: RasaEvents, staff: dict) -> None:
    """Five conversations over a few days, each standing out by one thing."""
    await rasa.talk("old-rest", Turn("Je veux payer mon loyer de janvier", "pay_rent"),
                    start=at(10, month=1, year=2024), channel="rest")  # fmt: skip
    await rasa.talk("web-register", HELLO, Turn("je veux m'inscrire", "register"), start=at(1))
    await rasa.talk("tg-handoff", HANDOFF, start=at(2), channel="telegram")
    await rasa.talk("sms-fallback", NOT_UNDERSTOOD, start=at(3), channel="sms")
    await rasa.talk("web-verified", Turn("combien je dois", "check_balance"), start=at(4))
    await grant(sessions, "web-verified")


NEWEST_FIRST = ["web-verified", "sms-fallback", "tg-handoff", "web-register", "old-rest"]


#: Filters (query string) -> the conversations listed, newest first.
FILTERED: list[tuple[dict[str, str], list[str]]] = [
    ({}, NEWEST_FIRST),
    ({"canal": "telegram"}, ["tg-handoff"]),
    ({"conseiller": "oui"}, ["tg-handoff"]),
    ({"conseiller": "non", "canal": "socketio"}, ["web-verified", "web-register"]),
    ({"incompris": "oui"}, ["sms-fallback"]),
    ({"verifiee": "oui"}, ["web-verified"]),
    ({"verifiee": "non", "du": "2025-03-01"}, ["sms-fallback", "tg-handoff", "web-register"]),
    ({"client": "8765 4321"}, ["web-verified"]),
    ({"sujet": "pay_rent"}, ["old-rest"]),
    ({"sujet": "register"}, ["web-register"]),
    ({"du": "2025-03-02", "au": "2025-03-03"}, ["sms-fallback", "tg-handoff"]),
    ({"au": "2024-12-31"}, ["old-rest"]),
    ({"au": "31/12/2024"}, ["old-rest"]),  # typed where a browser has no date picker
    ({"q": "LOYER Janvier"}, ["old-rest"]),
    ({"q": "loyer fevrier"}, []),
    ({"q": "conseillér"}, ["tg-handoff"]),
    ({"q": "%"}, []),
    ({"etiquette": "suivi"}, ["sms-fallback"]),
    ({"revue": "revue"}, ["web-register"]),
    ({"revue": "a_revoir", "canal": "socketio"}, ["web-verified"]),
]


async def test_filters_and_search(
    portal: Portal, five: None, agent: StaffBrowser, staff: dict
) -> None:
    await refresh(portal.sessions, portal.settings)
    async with portal.sessions.begin() as session:
        sms = await queries.find_summary(session=session, conversation_id="sms-fallback")
        await annotations.add_tag(session=session, summary=sms, tag="Suivi", staff_id=None)
        web = await queries.find_summary(session=session, conversation_id="web-register")
        await annotations.set_review(
            session=session, summary=web, status=ReviewStatus.REVIEWED, staff_id=None
        )

    found = []
    for query, expected in FILTERED:
        page = await agent.client.get(LIST, params=query)
        noun = "conversation" if len(expected) == 1 else "conversations"
        counted = f"{len(listed(page.text))} {noun}" in page.text
        found.append((query, page.status_code, listed(page.text), counted))

    assert found == [(query, 200, expected, True) for query, expected in FILTERED]


async def test_the_list_shows_what_each_conversation_is_about(
    portal: Portal, five: None, agent: StaffBrowser
) -> None:
    page = (await agent.client.get(LIST)).text

    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page, re.S)
    (row,) = [row for row in rows if ">tg-handoff</a>" in row]
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    assert cells.startswith("02/03/2025 12:0")
    assert "Telegram — 1 Demande de conseiller conseiller à revoir" in cells
    assert 'href="/staff/conversations/tg-handoff"' in row
    filtered = (await agent.client.get(LIST, params={"canal": "telegram"})).text
    link = 'href="/staff/conversations/tg-handoff?retour=canal%3Dtelegram"'
    assert link in filtered  # the transcript leads back to the filtered list
    transcript = await agent.client.get("/staff/conversations/tg-handoff?retour=canal%3Dtelegram")
    assert '<a href="/staff/conversations?canal=telegram">' in transcript.text


#: Filters -> the French explanation of why they are refused.
REFUSED: list[tuple[dict[str, str], str]] = [
    ({"du": "demain"}, "Date invalide"),
    ({"du": "2025-03-05", "au": "2025-03-01"}, "La date de début est postérieure"),
    ({"client": "123"}, "Le numéro client compte 8 chiffres."),
    ({"conseiller": "peut-être"}, "Choisissez « oui » ou « non »."),
    ({"sujet": "DROP TABLE"}, "Valeur de filtre inconnue."),
    ({"etiquette": "a/b"}, "Une étiquette compte 1 à 40 caractères"),
    ({"apres": "abc"}, "Page inconnue."),
]


async def test_bad_filters_are_explained_in_french(
    portal: Portal, five: None, agent: StaffBrowser
) -> None:
    found = []
    for query, message in REFUSED:
        page = await agent.client.get(LIST, params=query)
        text = page.text.replace("&#39;", "'")
        kept = all(f'value="{value}"' in text for value in query.values() if value[:1].isdigit())
        found.append((query, page.status_code, message in text, listed(text), kept))

    # What was typed stays in the form (dates, client number).
    assert found == [(query, 400, True, [], True) for query, _ in REFUSED]


async def test_pages_follow_one_another_without_gaps_or_repeats(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    rows = []
    for number in range(120):
        rows += conversation_rows(f"c-{number:03}", [HELLO], start=at(1) + number * 60)
    await rasa.rows(rows)

    first = (await agent.client.get(LIST)).text
    # New conversations arrive between two page views: the next page does not shift.
    await rasa.talk("newcomer", HELLO, start=at(9))
    older = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    second = (await agent.client.get(older)).text
    older = re.search(r'<a href="([^"]+)" rel="next">', second).group(1).replace("&amp;", "&")
    third = (await agent.client.get(older)).text
    newer = re.search(r'<a href="([^"]+)" rel="prev">', third).group(1).replace("&amp;", "&")
    back = (await agent.client.get(newer)).text

    expected = [f"c-{number:03}" for number in reversed(range(120))]
    assert listed(first) == expected[:50]
    assert listed(second) == expected[50:100]
    assert listed(third) == expected[100:] and 'rel="next"' not in third
    assert listed(back) == expected[50:100]
    assert "121 conversations" in third
    assert listed((await agent.client.get(LIST)).text)[:2] == ["newcomer", "c-119"]


async def test_the_list_still_answers_when_the_tracker_store_is_unreachable(
    portal: Portal, five: None, agent: StaffBrowser
) -> None:
    assert listed((await agent.client.get(LIST)).text) == NEWEST_FIRST
    portal.app.ctx.tracker = TrackerStore("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")

    page = await agent.client.get(LIST)

    assert page.status_code == 200 and "ne répond pas" in page.text.replace("&#39;", "'")
    assert listed(page.text) == NEWEST_FIRST


# --------------------------------------------------------------------------- a transcript


async def test_the_transcript_reads_as_a_chat_with_intents_and_actions(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    iban = Turn("mon IBAN est [IBAN masqué]", "inform", 0.912, reply="C'est noté.")
    await rasa.talk("chat-1", HANDOFF, iban, start=at(1), channel="telegram")
    await agent.client.get(LIST)

    page = await agent.client.get(f"{LIST}/chat-1")

    assert page.status_code == 200
    chat = re.search(r'<ol class="chat".*?</ol>', page.text, re.S).group(0)
    lines = [
        (kind, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip())
        for kind, body in re.findall(r'<li class="(\w+)">(.*?)</li>', chat, re.S)
    ]
    assert [kind for kind, _ in lines] == ["session", "tenant", "action", "bot", "tenant", "bot"]
    assert lines[0][1].endswith("nouvelle session")
    assert lines[1][1].endswith("je veux parler à un conseiller human_handoff · 97 %")
    assert lines[2][1].endswith("demande transmise à un conseiller")
    assert "Je transmets votre demande à un conseiller." in lines[3][1]
    assert lines[4][1].endswith("mon IBAN est [IBAN masqué] inform · 91 %")
    assert "Telegram" in page.text and "demande de conseiller" in page.text


async def test_odd_conversation_ids_have_working_links(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    odd = "+33 6/12?x=1#é"
    await rasa.talk(odd, HELLO, start=at(1), channel="sms")
    link = re.search(r'class="cid" href="([^"?]+)', (await agent.client.get(LIST)).text).group(1)

    assert link == f"{LIST}/{quote(odd, safe='')}"
    page = await agent.client.get(link)
    assert page.status_code == 200 and "Bonjour" in page.text


async def test_an_unknown_conversation_is_not_found(portal: Portal, agent: StaffBrowser) -> None:
    page = await agent.client.get(f"{LIST}/nobody")

    assert page.status_code == 404 and "Conversation introuvable" in page.text


# --------------------------------------------------------------------------- annotations


async def test_tags_note_and_review_are_kept_and_audited(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser, staff: dict
) -> None:
    await rasa.talk("web-1", HELLO, start=at(1))
    await agent.client.get(LIST)
    one = f"{LIST}/web-1"

    steps = [
        await agent.post(f"{one}/etiquettes", {"etiquette": " Suivi  Agence "}),
        await agent.post(f"{one}/etiquettes", {"etiquette": "urgent"}),
        await agent.post(f"{one}/etiquettes", {"etiquette": "urgent"}),  # already there
        await agent.post(f"{one}/etiquettes/retrait", {"etiquette": "urgent"}),
        await agent.post(f"{one}/note", {"note": "Rappeler la locataire lundi."}),
        await agent.post(f"{one}/revue", {"statut": "revue"}),
    ]

    assert [step.status_code for step in steps] == [303] * 6
    assert steps[-1].headers["location"] == f"{one}?fait=revue"
    page = (await agent.client.get(steps[-1].headers["location"])).text
    assert "La conversation est marquée comme revue." in page
    assert '<span class="tag">suivi-agence</span>' in page and ">urgent<" not in page
    assert "Rappeler la locataire lundi." in page and "par Bruno Agent" in page
    entries = [
        (e.action, e.target_type, e.target_id, e.details, e.staff_id)
        for e in await audit_entries(portal.sessions)
        if e.action.startswith("conversation")
    ]
    agent_id = staff["agent"].id
    assert entries == [
        ("conversation_tagged", "conversation", "web-1", {"tag": "suivi-agence"}, agent_id),
        ("conversation_tagged", "conversation", "web-1", {"tag": "urgent"}, agent_id),
        ("conversation_untagged", "conversation", "web-1", {"tag": "urgent"}, agent_id),
        ("conversation_note_saved", "conversation", "web-1", {"length": 28}, agent_id),
        ("conversation_reviewed", "conversation", "web-1", None, agent_id),
    ]
    listed_tagged = (await agent.client.get(LIST, params={"etiquette": "suivi-agence"})).text
    assert listed(listed_tagged) == ["web-1"]

    reopened = await agent.post(f"{one}/revue", {"statut": "a_revoir"})
    assert reopened.headers["location"] == f"{one}?fait=a_revoir"
    async with portal.sessions() as session:
        summary = await queries.find_summary(session=session, conversation_id="web-1")
        tags = list(await session.scalars(select(ConversationTag.tag)))
    assert summary.review_status == ReviewStatus.PENDING and summary.reviewed_by_id == agent_id
    assert summary.note == "Rappeler la locataire lundi." and tags == ["suivi-agence"]
    assert (await audit_entries(portal.sessions))[-1].action == "conversation_review_reopened"
    assert "<td>à revoir</td>" in (await agent.client.get(LIST)).text

    # Reviewed again, then the tenant writes again: to review, and the list says why.
    await agent.post(f"{one}/revue", {"statut": "revue"})
    assert "<td>revue</td>" in (await agent.client.get(LIST)).text
    await rasa.talk("web-1", Turn("encore une question", "ask_help"), start=time.time() + 5)
    assert "<td>nouveaux messages depuis la revue</td>" in (await agent.client.get(LIST)).text


@pytest.mark.parametrize(
    ("path", "form", "message"),
    [
        ("etiquettes", {"etiquette": ""}, "Une étiquette compte 1 à 40 caractères"),
        ("etiquettes", {"etiquette": "x" * 41}, "Une étiquette compte 1 à 40 caractères"),
        ("revue", {"statut": "peut-etre"}, "Statut de revue inconnu."),
        ("note", {"note": "n" * 4001}, "La note dépasse 4000 caractères."),
    ],
)
async def test_refused_annotations_are_explained_and_change_nothing(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser, path: str, form: dict, message: str
) -> None:
    await rasa.talk("web-1", HELLO, start=at(1))
    await agent.client.get(LIST)
    before = await audit_entries(portal.sessions)

    response = await agent.post(f"{LIST}/web-1/{path}", form)

    assert response.status_code == 400 and message in response.text
    assert len(await audit_entries(portal.sessions)) == len(before)
    summary = (await summaries(portal.sessions))["web-1"]
    assert summary.note is None and summary.review_status == ReviewStatus.PENDING


async def test_annotating_an_unknown_conversation_is_not_found(
    portal: Portal, agent: StaffBrowser
) -> None:
    response = await agent.post(f"{LIST}/nobody/etiquettes", {"etiquette": "x"})

    assert response.status_code == 404


# --------------------------------------------------------------------------- exports


def csv_rows(body: bytes) -> list[dict[str, str]]:
    decoded = body.decode("utf-8")
    assert decoded.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(decoded[1:]), delimiter=";"))


async def test_one_conversation_exports_as_csv_and_json(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser, sessions: sessionmaker
) -> None:
    formula = Turn('=HYPERLINK("http://x")', "inform", reply="Je n'ai pas compris.")
    await rasa.talk("web-1", Turn("J'ai un problème d'évier", "out_of_scope"), formula,
                    start=at(1))  # fmt: skip
    await rasa.talk("web-2", HELLO, start=at(2))
    await grant(sessions, "web-1")
    await agent.client.get(LIST)

    as_csv = await agent.client.get(f"{LIST}/web-1/export.csv")
    as_json = await agent.client.get(f"{LIST}/web-1/export.json")

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="web-1.csv"' in as_csv.headers["content-disposition"]
    assert as_csv.headers["cache-control"] == "no-store"
    rows = csv_rows(as_csv.content)
    assert [(r["auteur"], r["texte"], r["intention"]) for r in rows if r["auteur"] != "action"] == [
        ("session", "", ""),
        ("locataire", "J'ai un problème d'évier", "out_of_scope"),
        ("assistant", "Très bien, je m'en occupe.", ""),
        ("locataire", '\'=HYPERLINK("http://x")', "inform"),
        ("assistant", "Je n'ai pas compris.", ""),
    ]
    assert {r["conversation"] for r in rows} == {"web-1"} and {r["client"] for r in rows} == {
        "87654321"
    }
    assert rows[1]["confiance"] == "0.9700" and rows[1]["date"].startswith("2025-03-01T12:00")
    document = json.loads(as_json.content)
    (conversation,) = document["conversations"]
    assert (
        conversation["conversation_id"] == "web-1" and conversation["client_number"] == "87654321"
    )
    assert conversation["channel"] == "socketio" and conversation["turns"] == 2
    said = [(e["from"], e.get("text")) for e in conversation["events"] if e["from"] != "action"]
    assert said[1] == ("locataire", "J'ai un problème d'évier")
    assert "parse_data" not in as_json.text and "slot" not in as_json.text
    exported = await audit_entries(portal.sessions, "conversations_exported")
    assert [(e.target_id, e.details["format"]) for e in exported] == [
        ("web-1", "csv"),
        ("web-1", "json"),
    ]


async def test_a_filtered_set_exports_in_full(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    rows = []
    for number in range(130):  # more than one export batch
        turn = HANDOFF if number % 2 else HELLO
        rows += conversation_rows(f"c-{number:03}", [turn], start=at(1) + number * 60)
    await rasa.rows(rows)
    await agent.client.get(LIST)

    as_csv = await agent.client.get(f"{LIST}/export.csv", params={"conseiller": "oui"})
    as_json = await agent.client.get(f"{LIST}/export.json", params={"conseiller": "oui"})

    handoffs = {f"c-{number:03}" for number in range(1, 130, 2)}
    assert {row["conversation"] for row in csv_rows(as_csv.content)} == handoffs
    document = json.loads(as_json.content)
    assert [c["conversation_id"] for c in document["conversations"]] == sorted(
        handoffs, reverse=True
    )
    assert all(c["had_handoff"] for c in document["conversations"])
    (entry, _) = await audit_entries(portal.sessions, "conversations_exported")
    assert entry.target_id is None and entry.details == {
        "format": "csv",
        "filters": "conseiller=oui",
    }


async def test_an_export_with_bad_filters_is_refused(portal: Portal, agent: StaffBrowser) -> None:
    response = await agent.client.get(f"{LIST}/export.csv", params={"du": "hier"})

    assert response.status_code == 400 and "Date invalide" in response.text
    assert await audit_entries(portal.sessions, "conversations_exported") == []


def test_folding_ignores_case_accents_and_spacing() -> None:
    assert fold("  Ça   DÉBORDE\tÉvier ") == "ca deborde evier"


async def test_the_daily_jobs_catch_the_index_up(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    from bot.app import jobs  # the daily job list, which names this one

    await rasa.talk("web-1", HELLO, start=at(1))
    await rasa.talk("web-2", HELLO, start=at(2))

    first = await jobs.run_daily_jobs(portal_settings, datetime(2025, 3, 3).date())
    again = await jobs.run_daily_jobs(portal_settings, datetime(2025, 3, 3).date())

    assert (first["indexed_conversations"], again["indexed_conversations"]) == (2, 0)
    assert set(await summaries(sessions)) == {"web-1", "web-2"}
