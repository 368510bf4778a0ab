"""Faults on the production topology under a steady load of 10 tenants (issue 12).

For each fault: every tenant message sent while it lasts gets the help page's answer or a
clear French "the service is temporarily unavailable" (never silence, never "je n'ai pas
compris", never an error page); every tenant is answered again within a bound, without anyone
restarting anything by hand; and afterwards each conversation's messages are in the tracker
store once, and the emails, payments and submissions are counted: none lost, none doubled.
The table of what was seen is written to ``var/faults/faults.md`` (the issue's closing note).
"""

from __future__ import annotations

import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.mail.mailbox import ReceivedEmail, read_mailbox
from bot.settings import PROJECT_ROOT
from tests.faults.conftest import Faulty, write_table
from tests.faults.counts import tracker_texts, unaccounted
from tests.faults.load import UNAVAILABLE
from tests.faults.payments import accepted_notification, lease_balance, payment_row

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.faults]

TABLE = PROJECT_ROOT / "var" / "faults" / "faults.md"
#: How long a fault lasts when a test holds it, and how long the tenants have to recover.
HOLD_SECONDS = 10.0
RECOVERY_BOUND = 90.0
#: A demo household (bot/portal/services/demo.py) and the email its identifier reminder is.
NGUYEN = "minh.nguyen@example.org"
REMINDER = "identifiant"
CONFIRMATION = "confirmation de votre paiement"
PARKING = "BAIL-11223344-2"


def probe(name: str) -> str:
    """A conversation of its own for a tenant who does more than ask the help page."""
    return f"sonde-{name}-{secrets.token_hex(3)}"


def recovery(faulty: Faulty, tenant: str) -> list[str]:
    """A tenant asking for their identifier: the assistant's reply to each of three messages."""
    return [
        faulty.say(tenant, text) for text in ("j'ai oublié mon identifiant", "Nguyen", "11223344")
    ]


def mails(faulty: Faulty, to: str, subject: str) -> list[ReceivedEmail]:
    return [
        email
        for email in read_mailbox(faulty.maildir, to=to, limit=10_000)
        if subject in email.subject.casefold()
    ]


def wait_until(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s"
        time.sleep(0.5)


def wait_for_mails(faulty: Faulty, to: str, subject: str, count: int) -> list[ReceivedEmail]:
    wait_until(lambda: len(mails(faulty, to, subject)) >= count, RECOVERY_BOUND)
    return mails(faulty, to, subject)


def portal_ready(faulty: Faulty) -> bool:
    try:
        return httpx.get(f"{faulty.portal_entry}/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def table() -> Iterator[list[dict[str, str]]]:
    rows: list[dict[str, str]] = []
    yield rows
    write_table(rows, TABLE)


def observed(
    faulty: Faulty,
    table: list[dict[str, str]],
    fault: str,
    inject: Callable[[], None],
) -> dict[str, object]:
    """Run ``inject`` under the load; check and record what the tenants saw."""
    senders = faulty.load.senders
    dsn = faulty.topology.postgres.dsn(faulty.topology.tracker_database)
    before = sum(len(texts) for texts in tracker_texts(dsn, senders).values())
    started = time.monotonic()
    inject()
    recovered = faulty.load.wait_all_answered(started, RECOVERY_BOUND)
    window = faulty.load.between(started, time.monotonic())
    verdicts = Counter(exchange.verdict for exchange in window)
    with faulty.load.paused():
        stored = tracker_texts(dsn, senders)
        problems = [
            f"{sender}: {problem}"
            for sender in senders
            for problem in unaccounted(faulty.load.sent_by(sender), stored[sender])
        ]
    after = sum(len(texts) for texts in stored.values())
    table.append(
        {
            "fault": fault,
            "tenant messages": str(len(window)),
            "what the tenants saw": ", ".join(f"{v}: {n}" for v, n in verdicts.most_common()),
            "all answered again after": "never" if recovered is None else f"{recovered:.1f} s",
            "tracker messages before / after": f"{before} / {after}",
            "lost or doubled": str(len(problems)),
            "restarted by itself after": "–",
        }
    )
    if problems:
        keep_for_diagnosis(faulty, fault, problems, stored)
    clear = ("answer", "unavailable", "answer, then unavailable")
    bad = {v: n for v, n in verdicts.items() if v not in clear}
    assert not bad, f"{fault}: tenants saw {bad}"
    assert recovered is not None, f"{fault}: tenants not all answered within {RECOVERY_BOUND} s"
    assert not problems, problems[:5]
    return {"recovered": recovered, "verdicts": verdicts, "started": started}


def back_after(
    faulty: Faulty, table: list[dict[str, str]], name: str, seen: dict[str, object]
) -> None:
    """When the watcher had ``name`` healthy again, in the last row of the table."""
    started = seen["started"]
    assert isinstance(started, float)
    back = faulty.watcher.wait_restarted(name, started, timeout=240)
    table[-1]["restarted by itself after"] = f"{back:.1f} s ({name})"


def keep_for_diagnosis(
    faulty: Faulty, fault: str, problems: list[str], stored: dict[str, list[str]]
) -> None:
    """What a lost or doubled message looked like, for whoever reads the failure."""
    lines = [f"# {fault}", *problems]
    for sender in {problem.split(":", 1)[0] for problem in problems}:
        lines.append(f"## {sender}: stored {stored[sender][-40:]}")
        lines += [
            f"sent {e.text!r} at {e.sent:.2f}-{e.answered:.2f}: HTTP {e.status}, {e.verdict}"
            for e in faulty.load.sent_by(sender)[-40:]
        ]
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    with (TABLE.parent / "problems.txt").open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


def probe_saw(table: list[dict[str, str]], what: str, reply: str) -> None:
    """What a probing tenant read, in the last row of the table."""
    table[-1]["what the tenants saw"] += f"; {what}: « {reply[:70]}… »"


def test_steady_load_is_answered(faulty: Faulty, table: list[dict[str, str]]) -> None:
    observed(faulty, table, "none (steady load, 15 s)", lambda: time.sleep(15))


@pytest.mark.parametrize(
    ("process", "fault"),
    [("actions-1", "action server killed"), ("rasa-1", "one of two Rasa servers killed")],
)
def test_a_process_killed(
    faulty: Faulty, table: list[dict[str, str]], process: str, fault: str
) -> None:
    def kill() -> None:
        faulty.watcher.kill(process)
        time.sleep(HOLD_SECONDS)

    seen = observed(faulty, table, f"{fault} (SIGKILL)", kill)
    back_after(faulty, table, process, seen)


def test_the_portals_stopped(faulty: Faulty, table: list[dict[str, str]]) -> None:
    tenant = probe("portals")
    reminders = len(mails(faulty, NGUYEN, REMINDER))
    replies: list[str] = []

    def stop() -> None:
        portals = {"portal-1", "portal-2"}
        faulty.watcher.held |= portals
        try:
            for name in portals:
                faulty.watcher.kill(name, signal.SIGTERM)
            # A tenant asking for their identifier: the last step needs the portal.
            replies.extend(recovery(faulty, tenant))
            time.sleep(HOLD_SECONDS)
        finally:
            faulty.watcher.held -= portals

    seen = observed(faulty, table, f"both portals stopped for {HOLD_SECONDS:.0f} s", stop)
    back_after(faulty, table, "portal-2", seen)
    probe_saw(table, "identifier asked during it", replies[-1])

    assert UNAVAILABLE in replies[-1], replies
    # Once the portals are back, the same tenant asks again and is served.
    wait_until(lambda: portal_ready(faulty), RECOVERY_BOUND)
    assert "identifiant vient d'être envoyé" in recovery(faulty, tenant)[-1]
    assert len(wait_for_mails(faulty, NGUYEN, REMINDER, reminders + 1)) == reminders + 1


def test_smtp_refusing_for_a_while(faulty: Faulty, table: list[dict[str, str]]) -> None:
    tenant = probe("smtp")
    seen = len(mails(faulty, NGUYEN, REMINDER))
    replies: list[str] = []

    def refuse() -> None:
        with faulty.relay.refusing():
            replies.extend(recovery(faulty, tenant))
            time.sleep(HOLD_SECONDS * 2)
            assert len(mails(faulty, NGUYEN, REMINDER)) == seen

    observed(faulty, table, f"SMTP relay refusing for {HOLD_SECONDS * 2:.0f} s", refuse)
    probe_saw(table, "identifier asked during it", replies[-1])

    # The tenant was told the email is on its way; it arrives, once, after the refusal.
    assert "identifiant vient d'être envoyé" in replies[-1]
    assert len(wait_for_mails(faulty, NGUYEN, REMINDER, seen + 1)) == seen + 1
    time.sleep(5)
    assert len(mails(faulty, NGUYEN, REMINDER)) == seen + 1


def test_redis_restarted(faulty: Faulty, table: list[dict[str, str]]) -> None:
    observed(faulty, table, "Redis restarted (keys lost)", faulty.redis.restart)


def test_postgres_restarted(faulty: Faulty, table: list[dict[str, str]]) -> None:
    observed(faulty, table, "PostgreSQL restarted (fast shutdown)", faulty.postgres.restart)


def test_a_payment_notification_delivered_twice_at_once(
    faulty: Faulty, table: list[dict[str, str]]
) -> None:
    settings = faulty.stack.settings
    assert settings is not None
    confirmations: list[int] = []
    outcome: dict[str, object] = {}

    def notify_twice() -> None:
        notification = accepted_notification(
            settings, faulty.portal_entry, "11223344", PARKING, "10,00"
        )
        balance = lease_balance(settings, PARKING)
        seen = len(mails(faulty, NGUYEN, CONFIRMATION))
        url = f"{faulty.portal_entry}/paiement/notification"
        # The platform's retry arriving while the first is handled, on the other portal.
        with ThreadPoolExecutor(2) as pool:
            statuses = list(
                pool.map(
                    lambda _: httpx.post(url, data=notification.fields, timeout=30).status_code,
                    range(2),
                )
            )
        confirmations.extend([seen, len(wait_for_mails(faulty, NGUYEN, CONFIRMATION, seen + 1))])
        time.sleep(5)  # a second confirmation would be sent by now
        confirmations.append(len(mails(faulty, NGUYEN, CONFIRMATION)))
        outcome.update(
            statuses=statuses,
            row=payment_row(settings, notification.reference),
            credited=balance - lease_balance(settings, PARKING),
            amount=notification.amount,
        )

    observed(faulty, table, "payment notification delivered twice at once", notify_twice)

    assert outcome["statuses"] == [200, 200]
    assert outcome["row"] == ("accepted", 2)
    assert outcome["credited"] == outcome["amount"]
    seen, arrived, settled = confirmations
    assert (arrived, settled) == (seen + 1, seen + 1)
    table[-1]["lost or doubled"] += (
        f"; payment {outcome['row'][0]} once, notified {outcome['row'][1]}×, "
        f"credited {outcome['credited']} € once, confirmations {seen} → {settled}"
    )
