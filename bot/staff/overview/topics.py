"""Which intents count as a conversation's *topics* on the overview.

The index keeps every intent of a conversation (``ConversationSummary.intents``); most
conversations also say hello, thank, confirm or answer a form's question, and those would top
every ranking while telling a team lead nothing about what tenants came for. Their French
labels are the console's own (``staff/conversations_labels.html``, ``TOPICS``): the list, the
transcript and the overview name a topic the same way; an intent without a label shows as is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

#: Intents of ``domain.yml`` that are conversation mechanics, not topics.
NOT_TOPICS = frozenset(
    {
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "bot_challenge",
        "cancel",  # leaving a form: the flow chart shows what was not completed
        "inform",  # answering a form's question (client number, email...)
        "nlu_fallback",  # not understood: the fallback rate shows it
    }
)
#: Topics the overview ranks.
TOP = 10


def top_topics(
    combinations: Iterable[tuple[str | None, int]], limit: int = TOP
) -> list[tuple[str, int]]:
    """The ``limit`` topics found in most conversations, with how many; most frequent first.

    Args:
        combinations: ``(ConversationSummary.intents, conversations)`` pairs, as a ``GROUP BY
            intents`` gives them (far fewer rows than conversations); ``intents`` is ``" a b "``.
        limit: how many to keep.
    """
    counts: Counter[str] = Counter()
    for words, conversations in combinations:
        for word in set((words or "").split()) - NOT_TOPICS:
            counts[word] += conversations
    # Ties by name, so that the order does not change from one view to the next.
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
