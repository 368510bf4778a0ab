"""The bench's output: passes per category as a table, then each failure with its turn."""

from __future__ import annotations

from collections import Counter

from bench.conversations.runner import Outcome

#: The issue's categories, in the order the table shows them.
CATEGORIES = (
    "faq",
    "digressions",
    "switches",
    "corrections",
    "exits",
    "english",
    "flows",
    "bad_input",
)


def table(outcomes: list[Outcome]) -> str:
    """A Markdown table: scenarios, passed, failed, skipped per category, then the total."""
    order = list(CATEGORIES) + sorted({o.scenario.category for o in outcomes} - set(CATEGORIES))
    lines = ["| category | scenarios | passed | failed | skipped |", "|---|---:|---:|---:|---:|"]
    totals: Counter[str] = Counter()
    for category in order:
        mine = [o for o in outcomes if o.scenario.category == category]
        if not mine:
            continue
        counts = Counter(
            "skipped" if o.skipped else "passed" if o.passed else "failed" for o in mine
        )
        totals.update(counts)
        totals["scenarios"] += len(mine)
        lines.append(
            f"| {category} | {len(mine)} | {counts['passed']} | {counts['failed']} "
            f"| {counts['skipped']} |"
        )
    lines.append(
        f"| **total** | **{totals['scenarios']}** | **{totals['passed']}** "
        f"| **{totals['failed']}** | **{totals['skipped']}** |"
    )
    return "\n".join(lines)


def failures(outcomes: list[Outcome]) -> str:
    """Each failed scenario: the turn that failed, why, and what came back."""
    blocks = []
    for o in outcomes:
        if o.passed:
            continue
        head = f"{o.scenario.category}/{o.scenario.name}"
        if o.skipped:
            blocks.append(f"SKIPPED {head}: {o.skipped}")
            continue
        lines = [f"FAILED {head}, turn {o.turn} ({o.turn_label})"]
        lines += [f"    - {reason}" for reason in o.reasons]
        lines += [f"    got: {line}" for line in o.got]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
