"""What the fault tests count in the databases and the mailbox, before and after a fault.

"Nothing lost or doubled" is checked per conversation: the tenant messages Rasa's tracker
store holds must be the ones the load sent, in order, each once. A message the assistant
answered must be there; one the tenant was told could not be handled ("le service est
momentanément indisponible") or that got no answer at all may or may not be, since the
server may have failed before saving it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from bot.channels.identity import sender_id
from bot.runner.stack import run_async
from tests.faults.load import Exchange


def tracker_texts(dsn: str, senders: Sequence[str]) -> dict[str, list[str]]:
    """Each REST sender's user messages in the tracker store, in order (the channel names its
    conversations ``rest:<sender>``)."""
    conversations = {sender_id("rest", sender): sender for sender in senders}

    async def read() -> dict[str, list[str]]:
        connection = await asyncpg.connect(dsn=dsn, timeout=10)
        try:
            rows = await connection.fetch(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' "
                "AND sender_id = ANY($1::text[]) ORDER BY id",
                list(conversations),
            )
        finally:
            await connection.close()
        texts: dict[str, list[str]] = {sender: [] for sender in senders}
        for row in rows:
            texts[conversations[row["sender_id"]]].append(json.loads(row["data"]).get("text", ""))
        return texts

    return run_async(read)


def required(exchange: Exchange) -> bool:
    """Answered, without the notice that it was not recorded: it must be in the tracker."""
    return exchange.status == 200 and not exchange.told_unavailable


def aligned(sent: Sequence[Exchange], stored: Sequence[str]) -> bool:
    """Whether ``stored`` is ``sent`` in order, each message once, the required ones all
    there and the others there or not (an exact alignment, not a greedy one: a message that
    failed, followed by the same text answered, must not take that one's place)."""
    # fits[i][j]: sent[i:] can be what stored[j:] holds.
    fits = [[False] * (len(stored) + 1) for _ in range(len(sent) + 1)]
    fits[len(sent)][len(stored)] = True
    for i in range(len(sent) - 1, -1, -1):
        for j in range(len(stored), -1, -1):
            kept = j < len(stored) and stored[j] == sent[i].text and fits[i + 1][j + 1]
            fits[i][j] = kept or (not required(sent[i]) and fits[i + 1][j])
    return fits[0][0]


def unaccounted(sent: Sequence[Exchange], stored: Sequence[str]) -> list[str]:
    """Differences between what a tenant sent and what the tracker holds (empty: none).

    When no exact alignment exists, the greedy one names where it breaks: a message answered
    but not stored shows as lost, one stored twice as a leftover.
    """
    if aligned(sent, stored):
        return []
    problems = []
    position = 0
    for exchange in sent:
        if position < len(stored) and stored[position] == exchange.text:
            position += 1
        elif required(exchange):
            problems.append(f"lost: {exchange.text!r} (answered {exchange.verdict})")
    problems += [f"not sent or doubled: {text!r}" for text in stored[position:]]
    return problems or ["stored and sent differ"]
