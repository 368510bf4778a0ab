"""The fault tests' own accounting, on made-up exchanges (no stack)."""

from __future__ import annotations

import re

from tests.faults.counts import unaccounted
from tests.faults.load import UNAVAILABLE, Exchange

ANSWER = re.compile("réponse")


def sent(text: str, status: int | None = 200, reply: str = "réponse") -> Exchange:
    return Exchange("t", text, 0.0, 0.1, status, (reply,), ANSWER)


def test_every_answered_message_stored_once_in_order() -> None:
    assert unaccounted([sent("a"), sent("b"), sent("a")], ["a", "b", "a"]) == []


def test_a_message_answered_but_not_stored_is_lost() -> None:
    assert unaccounted([sent("a"), sent("b"), sent("c")], ["a", "c"]) == [
        "lost: 'b' (answered answer)"
    ]


def test_a_message_stored_twice_is_reported() -> None:
    assert unaccounted([sent("a"), sent("b")], ["a", "b", "b"]) == ["not sent or doubled: 'b'"]


def test_a_failed_message_may_or_may_not_be_stored() -> None:
    failed = sent("b", status=503, reply=UNAVAILABLE)
    assert unaccounted([sent("a"), failed, sent("c")], ["a", "c"]) == []
    assert unaccounted([sent("a"), failed, sent("c")], ["a", "b", "c"]) == []


def test_a_failed_message_then_the_same_text_answered_is_not_a_loss() -> None:
    # Greedy matching gave the stored "b" to the failed one and called the answered one lost.
    failed = sent("b", status=None, reply="")
    assert unaccounted([sent("a"), failed, sent("b")], ["a", "b"]) == []
    assert unaccounted([sent("a"), failed, sent("b")], ["a"]) == ["lost: 'b' (answered answer)"]
