"""The console's overview ("Vue d'ensemble", ``/staff/``): conversations per Paris day and
channel, top topics, fallback and handoff rates against the period before, flows started and
completed (from the forms' ``active_loop`` events and the closing responses' ``bot`` events),
the validation queue's age against the 48 h promise, the period selector, the empty state.

Conversations are written into a tracker store as Rasa stores them and indexed by the page view
itself; the portal side runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.policy.french_dates import FRANCE, today_in_france
from bot.portal.models import ConversationSummary, utcnow
from bot.staff.overview import charts, metrics
from bot.staff.overview.topics import top_topics
from bot.staff.templating import staff_templates
from bot.staff.transcripts.synthetic import Turn, conversation_rows
from bot.staff.transcripts.tracker import TrackerStore
from tests.portal.support import Portal
from tests.staff.support import HTML, LOGIN, RasaEvents, StaffBrowser
from tests.staff.test_transcripts import HANDOFF, HELLO, NOT_UNDERSTOOD
from tests.staff.test_validations import MARTIN, request_direct_debit, submit_certificate

HOME = "/staff/"


def paris(days_ago: int, hour: int = 12, minute: int = 0) -> float:
    """A Paris wall-clock time ``days_ago`` days before today, as Rasa's timestamps."""
    day = today_in_france() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), FRANCE).timestamp()


def french(day_ago: int) -> str:
    return (today_in_france() - timedelta(days=day_ago)).strftime("%d/%m/%Y")


def with_forms(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """After each form's action, the ``active_loop`` event Rasa stores when it activates it
    (``SQLTrackerStore`` copies the event's ``name`` into ``action_name``)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        out.append(row)
        if row["type_name"] == "action" and (row["action_name"] or "").endswith("_form"):
            at, form = row["timestamp"], row["action_name"]
            data = {"event": "active_loop", "timestamp": at, "metadata": {}, "name": form}
            out.append(
                {
                    "sender_id": row["sender_id"],
                    "type_name": "active_loop",
                    "timestamp": at,
                    "intent_name": None,
                    "action_name": form,
                    "data": json.dumps(data),
                }
            )
    return out


async def talk(
    rasa: RasaEvents, sender: str, turns: Sequence[Turn], *, at: float, channel: str = "socketio"
) -> None:
    await rasa.rows(with_forms(conversation_rows(sender, turns, start=at, channel=channel)))


def text_of(page: str) -> str:
    """The page as read aloud: inline tags dropped, other tags as spaces, entities decoded."""
    inline = re.sub(r"</?(?:span|strong|a)\b[^>]*>", "", page)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def table(page: str, caption: str) -> list[list[str]]:
    """The body rows of the table whose caption starts with ``caption``, as texts."""
    found = re.search(
        rf"<caption>{re.escape(caption)}.*?</caption>.*?<tbody>(.*?)</tbody>", page, re.S
    )
    assert found, f"no table '{caption}'"
    return [
        [text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    ]


async def overview_page(agent: StaffBrowser, query: str = "") -> str:
    response = await agent.client.get(HOME + query)
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    return response.text


PAY = Turn("je veux payer mon loyer", "pay_rent")
BALANCE = Turn("quel est mon solde ?", "check_balance")
THANKS = Turn("merci", "thanks")


# --------------------------------------------------------------------------- per day and channel


async def test_conversations_are_counted_per_paris_day_and_channel(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    await talk(rasa, "web-1", [HELLO], at=paris(1, 9))
    await talk(rasa, "web-2", [HELLO], at=paris(1, 15))
    await talk(rasa, "tg-1", [HELLO], at=paris(1, 18), channel="telegram")
    # 00:30 in Paris is still the day before in UTC: the team lead's calendar counts.
    await talk(rasa, "sms-night", [HELLO], at=paris(2, 0, 30), channel="sms")
    await talk(rasa, "api-1", [HELLO], at=paris(5), channel="rest")
    await talk(rasa, "fb-1", [HELLO], at=paris(5), channel="facebook")
    await talk(rasa, "too-old", [HELLO], at=paris(40))
    utc_day = datetime.fromtimestamp(paris(2, 0, 30), timezone.utc).date()
    assert utc_day == today_in_france() - timedelta(3)

    page = await overview_page(agent)

    rows = {row[0]: row[1:] for row in table(page, "Conversations commencées par jour")}
    assert len(rows) == 30 and list(rows)[-1] == french(0) and list(rows)[0] == french(29)
    #                     Site web, Telegram, SMS, API, Autre, Total
    assert rows[french(1)] == ["2", "1", "0", "0", "0", "3"]
    assert rows[french(2)] == ["0", "0", "1", "0", "0", "1"]
    assert rows[french(3)] == ["0", "0", "0", "0", "0", "0"]
    assert rows[french(5)] == ["0", "0", "0", "1", "1", "2"]
    text = text_of(page)
    assert "6 conversation(s) commencée(s)" in text
    assert "Site web : 2 Telegram : 1 SMS : 1 API : 1 Autre : 1" in text  # the legend
    chart = re.search(r'<svg class="chart" role="img" aria-label="([^"]+)"', page)
    assert chart and "6 au total (Site web 2, Telegram 1, SMS 1, API 1, Autre 1)" in unescape(
        chart.group(1)
    )
    assert f"jour le plus chargé : {french(1)} (3)" in unescape(chart.group(1))
    # One bar segment per (day, channel) with conversations, named for the tooltip.
    assert f"<title>{french(1)} – Site web : 2</title>" in page
    assert f"<title>{french(2)} – SMS : 1</title>" in page
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)


# --------------------------------------------------------------------------- topics


async def test_top_topics_count_conversations_and_are_named_in_french(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    await talk(rasa, "a", [HELLO, PAY, PAY, THANKS], at=paris(1))  # twice: one conversation
    await talk(rasa, "b", [HELLO, PAY, BALANCE], at=paris(2))
    await talk(rasa, "c", [PAY, Turn("il pleut ?", "ask_weather")], at=paris(3))
    await talk(rasa, "d", [BALANCE, NOT_UNDERSTOOD], at=paris(4))
    await talk(rasa, "e", [HELLO, THANKS], at=paris(4))

    page = await overview_page(agent)

    rows = table(page, "Conversations par sujet")
    assert rows == [["Paiement du loyer", "3"], ["Solde", "2"], ["ask_weather", "1"]]
    summary = unescape(re.findall(r'role="img" aria-label="([^"]+)"', page)[1])
    assert summary.startswith("Les 3 sujets les plus fréquents")
    assert summary.endswith("Paiement du loyer 3, Solde 2, ask_weather 1.")


def test_top_topics_keep_ten_skip_small_talk_and_break_ties_by_name() -> None:
    topics = [f"topic_{number:02}" for number in range(12)]
    # (intents of a conversation, how many conversations had exactly these)
    combinations = [(" greet " + " ".join(topics[: 12 - n]) + " thanks ", 1) for n in range(12)]
    combinations += [(" affirm deny inform cancel goodbye bot_challenge nlu_fallback ", 50)]
    combinations += [(None, 3), (" ", 4)]

    top = top_topics(combinations)

    assert top == [(f"topic_{number:02}", 12 - number) for number in range(10)]
    ties = [(" b a ", 1), (" a c ", 2), (" d ", 3)]
    assert top_topics(ties, limit=3) == [("a", 3), ("d", 3), ("c", 2)]


# --------------------------------------------------------------------------- rates


async def test_fallback_and_handoff_rates_show_counts_and_the_period_before(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    await talk(rasa, "now-1", [NOT_UNDERSTOOD], at=paris(1))
    await talk(rasa, "now-2", [HANDOFF], at=paris(2))
    await talk(rasa, "now-3", [NOT_UNDERSTOOD, HANDOFF], at=paris(3))
    await talk(rasa, "now-4", [HELLO], at=paris(6))
    await talk(rasa, "before-1", [NOT_UNDERSTOOD], at=paris(8))
    await talk(rasa, "before-2", [HELLO], at=paris(13))
    await talk(rasa, "long-ago", [NOT_UNDERSTOOD], at=paris(15))

    text = text_of(await overview_page(agent, "?jours=7"))

    today = today_in_france()
    before = f"{(today - timedelta(13)):%d/%m} – {(today - timedelta(7)):%d/%m}"
    assert (
        "Conversations avec un message non compris 50 % (2 sur 4) "
        f"Période précédente ({before}) : 50 % (1 sur 2) : stable"
    ) in text
    assert (
        "Conversations transmises à un conseiller 50 % (2 sur 4) "
        f"Période précédente ({before}) : 0 % (0 sur 2) : en hausse de 50 point(s)"
    ) in text


async def test_rates_are_percentages_of_the_period_with_one_decimal_when_small(
    sessions: sessionmaker,
) -> None:
    async with sessions.begin() as session:
        for number in range(280):
            session.add(
                ConversationSummary(
                    conversation_id=f"c{number}",
                    first_at=paris(1),
                    events=4,
                    had_fallback=number < 34,
                    had_handoff=number == 0,
                )
            )
    period = metrics.Period(7, today_in_france())
    async with sessions() as session:
        now, before = await metrics.rates(session=session, period=period)

    assert (now.fallback.count, now.fallback.total, now.handoff.count) == (34, 280, 1)
    assert round(now.fallback.percent) == 12 and before.fallback.percent is None
    macros = staff_templates.environment.get_template("staff/overview_charts.html").module
    assert str(macros.share_of(now.fallback)) == "12 % (34 sur 280)"
    assert str(macros.share_of(now.handoff)) == "0,4 % (1 sur 280)"
    assert str(macros.percent(metrics.Share(1, 20))) == "5 %"
    assert str(macros.share_of(before.handoff)) == "— (0 sur 0)"


# --------------------------------------------------------------------------- flows


def filled(form: str, response: str, *answers: str) -> list[Turn]:
    """A form opened by the first turn, ``answers`` given, ``response`` sent at the end."""
    intent = {"register_form": "register", "payment_form": "pay_rent"}.get(form, "inform")
    turns = [Turn("je commence", intent, actions=(form,), response="utter_ask_first")]
    turns += [Turn(answer, "inform") for answer in answers[:-1]]
    turns.append(Turn(answers[-1], "inform", response=response))
    return turns


async def test_flows_started_and_completed_come_from_form_and_response_events(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    done = "utter_registration_submitted"
    await talk(rasa, "reg-ok", filled("register_form", done, "12345678", "Martin"), at=paris(1))
    await talk(rasa, "reg-left", filled("register_form", "utter_default", "123"), at=paris(2))
    await talk(rasa, "pay-ok", filled("payment_form", "utter_payment_link", "540"), at=paris(3))
    await talk(rasa, "ins-left", filled("insurance_form", "utter_default", "maif"), at=paris(3))
    await talk(rasa, "chat", [HELLO, PAY], at=paris(4))
    # A form ending is an ``active_loop`` event without a name: not a start.
    await rasa.rows(
        [
            {
                "sender_id": "chat",
                "type_name": "active_loop",
                "timestamp": paris(4) + 60,
                "intent_name": None,
                "action_name": None,
                "data": json.dumps({"event": "active_loop", "name": None}),
            }
        ]
    )

    page = await overview_page(agent)

    async with portal.sessions() as session:
        found = {
            s.conversation_id: (s.flows_started, s.flows_completed)
            for s in await session.scalars(select(ConversationSummary))
        }
    assert found == {
        "reg-ok": (" register ", " register "),
        "reg-left": (" register ", " "),
        "pay-ok": (" payment ", " payment "),
        "ins-left": (" insurance ", " "),
        "chat": (" ", " "),
    }
    assert table(page, "Démarches") == [
        ["Inscription", "2", "1", "50 %"],
        ["Paiement en ligne", "1", "1", "100 %"],
        ["Prélèvement automatique", "0", "0", "—"],
        ["Assurance habitation", "1", "0", "0 %"],
    ]
    assert "<title>Inscription – Commencées : 2</title>" in page
    assert "<title>Inscription – Abouties : 1</title>" in page
    assert ">50 % abouties</text>" in page and ">aucune commencée</text>" in page
    assert "indexée(s) avant le suivi des démarches" not in page


async def test_conversations_indexed_before_flows_were_recorded_are_said_not_counted(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    await talk(rasa, "old", [HELLO], at=paris(2))
    await talk(rasa, "new", filled("payment_form", "utter_payment_link", "540"), at=paris(1))
    await overview_page(agent)
    async with portal.sessions.begin() as session:  # as an upgraded database leaves them
        await session.execute(
            update(ConversationSummary)
            .where(ConversationSummary.conversation_id == "old")
            .values(flows_started=None, flows_completed=None)
        )

    page = await overview_page(agent)

    assert table(page, "Démarches")[1] == ["Paiement en ligne", "1", "1", "100 %"]
    assert "1 conversation(s) de la période, indexée(s) avant le suivi des démarches" in (
        text_of(page)
    )


# --------------------------------------------------------------------------- validation queue


async def test_the_validation_queue_is_shown_by_age_against_the_48_hour_promise(
    portal: Portal, agent: StaffBrowser
) -> None:
    await submit_certificate(portal, hours_ago=50)  # overdue
    await submit_certificate(portal, MARTIN, hours_ago=30)
    await submit_certificate(portal, "55667788", hours_ago=2)
    await request_direct_debit(portal, hours_ago=47)

    page = await overview_page(agent)

    assert table(page, "Demandes en attente par ancienneté") == [
        ["Attestations d'assurance", "1", "1", "1", "3"],
        ["Prélèvements automatiques", "0", "1", "0", "1"],
    ]
    text = text_of(page)
    assert (
        "Demande la plus ancienne : attestations d'assurance, en attente depuis 2 j 2 h "
        "— délai de 48 h dépassé."
    ) in text
    assert "<title>Attestations d&#39;assurance – Plus de 48 h (en retard) : 1</title>" in page
    assert '<a href="/staff/validations">Voir les validations</a>' in page

    async with portal.sessions() as session:
        queues, oldest = await metrics.queue_ages(session=session, now=utcnow())
    assert [q.buckets for q in queues] == [
        {"fresh": 1, "due_soon": 1, "overdue": 1},
        {"fresh": 0, "due_soon": 1, "overdue": 0},
    ]
    assert oldest.kind == "insurance" and oldest.overdue
    assert timedelta(hours=50) <= oldest.age < timedelta(hours=50, minutes=5)


# --------------------------------------------------------------------------- empty, period, login


async def test_a_fresh_install_says_so_instead_of_drawing_empty_charts(
    portal: Portal, agent: StaffBrowser
) -> None:
    page = await overview_page(agent)  # no tracker store yet: Rasa never started

    text = text_of(page)
    assert "Aucune conversation n'a encore été enregistrée" in text
    assert "Aucune conversation du " in text and "Aucun sujet identifié" in text
    assert "Aucune démarche commencée" in text
    assert "Aucune demande en attente de validation." in text
    assert "— (0 sur 0)" in text
    assert "<svg" not in page
    assert "<h1>Console du personnel</h1>" in page


@pytest.mark.parametrize(
    ("query", "days"),
    [("?jours=7", 7), ("?jours=90", 90), ("", 30), ("?jours=31", 30), ("?jours=abc", 30)]
    + [("?jours=-7", 30), ("?jours=7.5", 30), ("?jours=", 30)],
)
async def test_the_period_is_7_30_or_90_days_and_anything_else_shows_30(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser, query: str, days: int
) -> None:
    await talk(rasa, "yesterday", [HELLO], at=paris(1))
    await talk(rasa, "ten-days-ago", [HELLO], at=paris(10))
    await talk(rasa, "sixty-days-ago", [HELLO], at=paris(60))

    page = await overview_page(agent, query)

    rows = table(page, "Conversations commencées par jour")
    assert len(rows) == days and rows[0][0] == french(days - 1) and rows[-1][0] == french(0)
    counted = {7: 1, 30: 2, 90: 3}[days]
    assert f"{counted} conversation(s) commencée(s) du {french(days - 1)} au {french(0)}" in (
        text_of(page)
    )
    assert f'<a href="/staff/?jours={days}" aria-current="page">{days} jours</a>' in page
    assert len(re.findall(r'<a [^>]*aria-current="page"', page)) == 2  # section and period


async def test_the_overview_needs_a_login(portal: Portal, staff: dict) -> None:
    response = await portal.client.get(f"{HOME}?jours=7", headers=HTML)

    assert response.status_code == 303 and response.headers["location"] == LOGIN
    assert "conversation" not in response.text


async def test_an_unreachable_tracker_store_still_shows_the_indexed_figures(
    portal: Portal, rasa: RasaEvents, agent: StaffBrowser
) -> None:
    await talk(rasa, "indexed", [HELLO], at=paris(1))
    await overview_page(agent)
    portal.app.ctx.tracker = TrackerStore("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")

    page = await overview_page(agent)

    assert "ne répond pas" in text_of(page)
    assert "1 conversation(s) commencée(s)" in text_of(page)


# --------------------------------------------------------------------------- chart geometry


def test_columns_stack_in_series_order_with_heights_proportional_to_values() -> None:
    chart = charts.stacked_columns(
        [("01/03", "01/03", {"a": 2, "b": 3}), ("02/03", "02/03", {"b": 1})], ["a", "b"]
    )

    first, second = chart.columns
    assert chart.scale.top == 5 and [t.value for t in chart.ticks] == [0, 1, 2, 3, 4, 5]
    (a, b), (only,) = first.segments, second.segments
    assert (a.series, b.series, only.series) == ("a", "b", "b")
    assert a.y + a.height == pytest.approx(chart.bottom)  # the first series at the bottom
    assert b.y + b.height == pytest.approx(a.y)  # the next one on top of it
    assert b.y == pytest.approx(chart.top)  # the tallest column reaches the top
    assert b.height == pytest.approx(3 * only.height) and a.height == pytest.approx(2 * only.height)
    assert second.center > first.center and (first.total, second.total) == (5, 1)


def test_a_long_period_names_one_day_in_a_few_always_the_latest() -> None:
    days = [(f"{n}", f"{n}", {"a": n}) for n in range(90)]

    chart = charts.stacked_columns(days, ["a"])

    named = [column.label for column in chart.columns if column.label]
    assert len(named) <= charts.MAX_AXIS_LABELS and named[-1] == "89"


def test_bars_share_one_scale_and_zero_draws_nothing() -> None:
    chart = charts.grouped_bars([("x", [("s", 4), ("t", 1)]), ("y", [("s", 0), ("t", 2)])])

    (s4, t1), (s0, t2) = (group.bars for group in chart.groups)
    assert s4.width == pytest.approx(4 * t1.width) and t2.width == pytest.approx(2 * t1.width)
    assert s0.width == 0 and s0.text_x > chart.label_width
    assert s4.x + s4.width + 40 < chart.width  # room left for the value written after it
    assert t2.y > s0.y > t1.y > s4.y and chart.height > t2.y + t2.height


@pytest.mark.parametrize(
    ("largest", "top", "step"), [(0, 1, 1), (3, 3, 1), (7, 8, 2), (23, 25, 5), (480, 500, 100)]
)
def test_the_value_axis_uses_round_steps(largest: int, top: int, step: int) -> None:
    axis = charts.scale(largest)

    assert axis.top == top and axis.ticks[1] - axis.ticks[0] == step and len(axis.ticks) <= 6


@pytest.mark.parametrize(
    ("raw", "days"), [("7", 7), (" 90 ", 90), ("30", 30), (None, 30), ("0", 30), ("1e3", 30)]
)
def test_parse_days(raw: str | None, days: int) -> None:
    assert metrics.parse_days(raw) == days


def test_a_period_is_whole_paris_days_and_the_one_before_has_the_same_length() -> None:
    period = metrics.Period(7, date(2025, 3, 31))  # DST began on 30 March 2025

    assert period.first_day == date(2025, 3, 25)
    assert period.start == datetime(2025, 3, 25, tzinfo=FRANCE).timestamp()
    assert period.end == datetime(2025, 4, 1, tzinfo=FRANCE).timestamp()
    assert period.end - period.start == 7 * 86_400 - 3_600
    before = period.previous()
    assert (before.first_day, before.last_day, before.end) == (
        date(2025, 3, 18),
        date(2025, 3, 24),
        period.start,
    )
