"""A steady load of tenants asking help-page questions through nginx, every exchange kept.

Each tenant is one conversation from its own loopback address (nginx keeps a client address
on one Rasa server, as it would keep a real tenant's), asking the questions of ``QUESTIONS``
in turn with a short pause, in a thread of its own. Every exchange is recorded with what the
tenant saw, so a fault test can say what tenants read while the fault lasted, when every
tenant was answered again, and whether each message reached the tracker exactly once.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import httpx

#: Help-page questions and a fact of their answer (tests/test_faq_answers.py has more).
QUESTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("quels jours pour le prélèvement ?", re.compile(r"le 2, le 7 ou le 10")),
    ("je peux payer par carte ?", re.compile(r"Caisse d'Epargne")),
    ("combien de temps pour valider mon assurance ?", re.compile(r"48 h")),
    ("le paiement marche le week-end ?", re.compile(r"24 h/24")),
]
#: The reply of utter_service_unavailable (domain.yml), in French.
UNAVAILABLE = "Le service est momentanément indisponible"
THINK_SECONDS = 0.3
REQUEST_TIMEOUT = 90.0


@dataclass(frozen=True)
class Exchange:
    """One message and what came back; ``status`` is None when no HTTP answer came at all."""

    tenant: str
    text: str
    sent: float
    answered: float
    status: int | None
    replies: tuple[str, ...]
    expected: re.Pattern[str]
    error: str = ""

    @property
    def answered_right(self) -> bool:
        return self.status == 200 and any(self.expected.search(r) for r in self.replies)

    @property
    def told_unavailable(self) -> bool:
        """A clear French "try again later", from the assistant or from nginx."""
        return any(UNAVAILABLE in reply for reply in self.replies)

    @property
    def verdict(self) -> str:
        if self.answered_right:
            # Answered, then told it was not recorded (the turn failed after its answer).
            return "answer, then unavailable" if self.told_unavailable else "answer"
        if self.told_unavailable:
            return "unavailable"
        if self.status is None:
            return f"no reply ({self.error})"
        if not any(self.replies):
            return f"silence (HTTP {self.status})"
        return f"other (HTTP {self.status}): {' / '.join(self.replies)[:160]}"


@dataclass
class SteadyLoad:
    """``tenants`` conversations through ``entry`` (nginx's Rasa port) until ``stop()``."""

    entry: str
    token: str
    run: str
    tenants: int = 10
    exchanges: list[Exchange] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _go: threading.Event = field(default_factory=threading.Event)
    _busy: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def sender(self, index: int) -> str:
        return f"charge-{self.run}-{index}"

    @property
    def senders(self) -> list[str]:
        return [self.sender(index) for index in range(self.tenants)]

    def start(self) -> None:
        self._go.set()
        for index in range(self.tenants):
            thread = threading.Thread(
                target=self._tenant, args=(index,), name=f"tenant-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._go.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def _tenant(self, index: int) -> None:
        sender = self.sender(index)
        # 127.0.0.20 and up: one address per tenant, so nginx spreads them over Rasa servers.
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{20 + index}")
        headers = {"Authorization": f"Bearer {self.token}"}
        # Each tenant starts elsewhere in the list; never the same question twice in a row.
        start = index % len(QUESTIONS)
        questions = itertools.cycle(QUESTIONS[start:] + QUESTIONS[:start])
        with httpx.Client(transport=transport, timeout=REQUEST_TIMEOUT, trust_env=False) as http:
            while not self._stop.is_set():
                self._go.wait()
                with self._idle:
                    self._busy += 1
                try:
                    self._exchange(http, sender, headers, *next(questions))
                finally:
                    with self._idle:
                        self._busy -= 1
                        self._idle.notify_all()
                self._stop.wait(THINK_SECONDS)

    def _exchange(
        self,
        http: httpx.Client,
        sender: str,
        headers: dict[str, str],
        text: str,
        expected: re.Pattern[str],
    ) -> None:
        sent = time.monotonic()
        status, replies, error = None, (), ""
        try:
            response = http.post(
                f"{self.entry}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                headers=headers,
            )
            status = response.status_code
            replies = _texts(response)
        except httpx.HTTPError as failure:
            error = type(failure).__name__
        with self._lock:
            self.exchanges.append(
                Exchange(sender, text, sent, time.monotonic(), status, replies, expected, error)
            )

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No message in flight while the block runs (each tenant finishes the one it sent)."""
        self._go.clear()
        try:
            with self._idle:
                self._idle.wait_for(lambda: self._busy == 0, timeout=REQUEST_TIMEOUT + 5)
            yield
        finally:
            self._go.set()

    def between(self, start: float, end: float) -> list[Exchange]:
        """Exchanges sent from ``start`` to ``end`` (monotonic seconds)."""
        with self._lock:
            return [e for e in self.exchanges if start <= e.sent <= end]

    def sent_by(self, sender: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.tenant == sender]

    def wait_all_answered(self, since: float, timeout: float) -> float | None:
        """Seconds from ``since`` until every tenant had a right answer to a message sent
        after the last wrong one; ``None`` if that did not happen within ``timeout``."""
        deadline = since + timeout
        while time.monotonic() < deadline:
            recovered = recovery_time(self.between(since, time.monotonic()), self.senders, since)
            if recovered is not None:
                return recovered
            time.sleep(0.5)
        return None


def _texts(response: httpx.Response) -> tuple[str, ...]:
    try:
        body = response.json()
    except ValueError:
        return (response.text[:200],)
    if not isinstance(body, list):
        return (str(body)[:200],)
    return tuple(str(item.get("text", "")) for item in body if isinstance(item, dict))


def recovery_time(
    exchanges: Sequence[Exchange], senders: Sequence[str], since: float
) -> float | None:
    """When every sender was answered right again, counted from ``since``: the end of the
    last exchange that was not an answer (0 if none), once each sender has a right answer
    sent after it; ``None`` while some sender has none yet."""
    wrong = [e.answered for e in exchanges if not e.answered_right]
    back = max(wrong, default=since)
    for sender in senders:
        if not any(e.tenant == sender and e.answered_right and e.sent >= back for e in exchanges):
            return None
    return back - since
