"""The "what limits it" paragraphs, worked out from the figures of each level.

Two readings of a batch: whether tenants queued at the servers (``in_flight``, messages waiting
on average, near the number of tenants) and which cores were busy. Throughput is cores kept busy
÷ CPU seconds a message costs, so from one server's figures two servers on ``cpus`` cores reach
at most ``(cpus ÷ cores busy with one) × (CPU per message with one ÷ with two)`` times one
server's rate, however well nginx balances them: the ceiling. It counts the processes measured
(not *other*, which is nobody's cost per message), then again without the bench's own client,
which a real deployment does not run on the servers' cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.scale_out.results import GOAL_RATIO, ONE_SERVER, OTHER, TWO_SERVERS

#: Cores busy above this share of the machine count as full (sampling, the kernel's own).
FULL = 0.9
#: Messages waiting above this share of the tenants: they queue at the servers.
QUEUED = 0.8
#: Cores busy outside every process measured, above which the batches were disturbed.
DISTURBED = 0.1
RASA = ("rasa-1", "rasa-2")
CLIENT = "bench client"
Row = Mapping[str, Any]


def ceiling(one: Row, two: Row, cpus: int, *, without: tuple[str, ...] = (OTHER,)) -> float | None:
    """The most two servers could give, as a multiple of one server's rate (module doc);
    ``without``: kinds left out of the cores and the costs on both sides."""

    def less(row: Row, total: str, per: str) -> float | None:
        value = row[total]
        return None if value is None else value - sum(row[per].get(k, 0.0) for k in without)

    busy = less(one, "machine_cores", "cores")
    cost1 = less(one, "machine_ms_per_msg", "cpu_ms_per_msg")
    cost2 = less(two, "machine_ms_per_msg", "cpu_ms_per_msg")
    if not (busy and cost1 and cost2):
        return None
    return (cpus / busy) * (cost1 / cost2)


def biggest(cpu: Mapping[str, float], count: int = 3) -> str:
    """The heaviest kinds besides Rasa, as "portals 12, postgres 8…" (ms)."""
    rest = sorted(((v, k) for k, v in cpu.items() if k not in (*RASA, OTHER)), reverse=True)
    rest = rest[:count]
    return ", ".join(f"{name} {value:.0f}" for value, name in rest)


def spread(turns: Mapping[str, float]) -> str:
    total = sum(turns.values())
    if not total:
        return ""
    return (
        "nginx gave them "
        + " / ".join(f"{n / total:.0%}" for n in turns.values())
        + " of the turns; "
    )


def measured(row: Row) -> float:
    """CPU ms per message of the stack's processes and the bench: the machine's, less *other*."""
    return row["machine_ms_per_msg"] - row["cpu_ms_per_msg"].get(OTHER, 0.0)


def rasa_cores(row: Row) -> str:
    return ", ".join(f"{name} {row['cores'][name]:.2f}" for name in RASA if name in row["cores"])


def bottleneck(row: Row, cpus: int) -> str:
    """What held this topology back, from its queue and its cores."""
    busy, waiting, level = row["machine_cores"], row["in_flight"] or 0.0, row["concurrency"]
    queue = f"{waiting:.1f} of {level} messages waiting on average"
    if busy >= FULL * cpus:
        cores = f"{busy:.2f} of {cpus} cores busy ({rasa_cores(row)})"
        return f"the machine was {cores}: the cores are the limit"
    if waiting >= QUEUED * level:
        return (
            f"tenants queued ({queue}) while {cpus - busy:.2f} core stayed idle: the Rasa "
            f"process is the limit ({rasa_cores(row)} core): one event loop per server, idle "
            f"too while the SQL tracker store's queries run on it, synchronously"
        )
    return f"tenants did not queue ({queue}): their own pace set the rate"


def reach(value: float | None) -> str:
    """A ceiling as "×1.46 one server's rate, short of ×1.5"."""
    if value is None:
        return "–"
    verdict = "enough for" if value >= GOAL_RATIO else "short of"
    return f"×{value:.2f} one server's rate, {verdict} ×{GOAL_RATIO}"


def disturbed(rows: Mapping[str, Row]) -> str:
    """A sentence when something besides the stacks and the bench took cores meanwhile."""
    said = [
        f"{row['cores'][OTHER]:.2f} core in the batches of {name}"
        for name, row in rows.items()
        if row["cores"].get(OTHER, 0.0) >= DISTURBED
    ]
    if not said:
        return ""
    return (
        f" Something outside the stacks and the bench (*other*) also took {' and '.join(said)}: "
        "those batches had less than the whole machine."
    )


def level_paragraph(one: Row, two: Row, cpus: int) -> str:
    got = two["vs_one_server"]
    rasa = sum(two["cpu_ms_per_msg"].get(name, 0.0) for name in RASA)
    client = two["cores"].get(CLIENT, 0.0)
    return (
        f"**{two['concurrency']} tenants at a time**: two Rasa servers gave "
        f"{'–' if got is None else f'×{got:.2f}'} one server's msg/s (goal ×{GOAL_RATIO}). "
        f"With one server, {bottleneck(one, cpus)}. With two, {spread(two['rasa_turns'])}"
        f"{bottleneck(two, cpus)}. A message cost {measured(two):.0f} ms of CPU in the processes "
        f"measured with two servers ({measured(one):.0f} with one): {rasa:.0f} in Rasa, then "
        f"{biggest(two['cpu_ms_per_msg'])}. At these costs {cpus} full cores carry two servers "
        f"at most {reach(ceiling(one, two, cpus))}; without the bench's own client "
        f"({client:.2f} core here; tenants' devices in a real deployment), at most "
        f"{reach(ceiling(one, two, cpus, without=(OTHER, CLIENT)))}."
        f"{disturbed({ONE_SERVER: one, TWO_SERVERS: two})}"
    )


def paragraphs(rows: Sequence[Row], cpus: int) -> list[str]:
    """One paragraph per level that has both production topologies."""
    out = []
    for level in dict.fromkeys(r["concurrency"] for r in rows):
        here = {r["topology"]: r for r in rows if r["concurrency"] == level}
        one, two = here.get(ONE_SERVER), here.get(TWO_SERVERS)
        if one and two and one["machine_cores"] and two["machine_cores"]:
            out.append(level_paragraph(one, two, cpus))
    return out
