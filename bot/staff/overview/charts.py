"""The geometry of the overview's charts: plain numbers that ``staff/overview_charts.html``
draws as inline SVG.

Positions are computed here so that the template only draws (no arithmetic in Jinja) and the
tests can check a chart's shape without parsing SVG. Sizes are in the SVG's own units (its
``viewBox``); the page scales the drawing to the width it has. No text is made here: labels
are looked up by key in the template, where the console's French wording lives.

::

    stacked_columns   one column per category, one stacked segment per series (days x channels)
    grouped_bars      horizontal bars, one group per row, one bar per series (topics, flows,
                      queue ages)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.staff.overview.metrics import (
    AGE_BUCKETS,
    CHANNELS,
    OTHER,
    Overview,
)

#: Horizontal axis labels a column chart shows at most (one in every few days for 30 or 90).
MAX_AXIS_LABELS = 10


@dataclass(frozen=True)
class Scale:
    """A value axis: from 0 to ``top``, a round number at least the largest value."""

    top: int
    ticks: tuple[int, ...]


def scale(largest: int, most_ticks: int = 5) -> Scale:
    """Round ticks (1, 2 or 5 times a power of ten apart) covering ``largest``."""
    step = 1
    while math.ceil(largest / step) > most_ticks:
        step = _next_step(step)
    top = max(math.ceil(largest / step) * step, 1)
    return Scale(top, tuple(range(0, top + 1, step)))


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, 100..."""
    power = 10 ** (len(str(step)) - 1)
    return {1: 2, 2: 5, 5: 10}[step // power] * power


# --------------------------------------------------------------------------- stacked columns


@dataclass(frozen=True)
class Segment:
    """A drawn rectangle: the series it shows, its value, its box (SVG units)."""

    series: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Column:
    """One category: ``name`` in full (tooltips), ``label`` what the axis shows under it
    ("" on the columns skipped so that labels do not overlap)."""

    name: str
    label: str
    total: int
    center: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Tick:
    value: int
    position: float


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    #: The plotting area: values go up from ``bottom`` (0) to ``top`` (``scale.top``).
    left: float
    top: float
    right: float
    bottom: float
    scale: Scale
    ticks: tuple[Tick, ...]
    columns: tuple[Column, ...]


def stacked_columns(
    categories: Sequence[tuple[str, str, Mapping[str, int]]],
    series: Sequence[str],
    *,
    width: int = 720,
    height: int = 240,
) -> ColumnChart:
    """One column per ``(name, axis label, value per series)``, segments in ``series`` order
    from the bottom; zero values draw nothing."""
    # Room on the right for half of the latest day's label, centred under its column.
    left, top, right, bottom = 44.0, 10.0, width - 22.0, height - 26.0
    totals = [sum(values.get(part, 0) for part in series) for _name, _label, values in categories]
    axis = scale(max(totals, default=0))
    band = (right - left) / max(len(categories), 1)
    bar = max(band * 0.7, 1.0)
    every = math.ceil(len(categories) / MAX_AXIS_LABELS) or 1
    last = len(categories) - 1

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / axis.top

    columns = []
    for number, ((name, label, values), total) in enumerate(zip(categories, totals, strict=True)):
        center = left + band * (number + 0.5)
        segments, below = [], 0
        for part in series:
            value = values.get(part, 0)
            if value:
                top_y = y(below + value)
                segments.append(
                    Segment(part, value, center - bar / 2, top_y, bar, y(below) - top_y)
                )
                below += value
        shown = label if (last - number) % every == 0 else ""  # the latest day is always named
        columns.append(Column(name, shown, total, center, tuple(segments)))
    ticks = tuple(Tick(value, y(value)) for value in axis.ticks)
    return ColumnChart(width, height, left, top, right, bottom, axis, ticks, tuple(columns))


# --------------------------------------------------------------------------- horizontal bars


@dataclass(frozen=True)
class Bar(Segment):
    """A horizontal bar, with its value written after it."""

    @property
    def text_x(self) -> float:
        """Where the value is written: just after the bar."""
        return self.x + self.width + 4

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class BarGroup:
    """One row of bars; its label is written at the middle of the first bar, a second line
    (``note``, e.g. a rate) at the middle of the second bar when there is one."""

    key: str
    bars: tuple[Bar, ...]

    @property
    def label_y(self) -> float:
        return self.bars[0].middle

    @property
    def note_y(self) -> float | None:
        return self.bars[1].middle if len(self.bars) > 1 else None


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    #: Bars start at ``label_width``; labels end just before it.
    label_width: int
    scale: Scale
    groups: tuple[BarGroup, ...]


def grouped_bars(
    groups: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    *,
    width: int = 720,
    label_width: int = 240,
    bar: float = 18.0,
    gap: float = 3.0,
    group_gap: float = 14.0,
) -> BarChart:
    """One row per ``(key, [(series, value), ...])``; bar lengths share one scale, with room
    on the right for the values written after them."""
    axis = scale(max((value for _key, bars in groups for _series, value in bars), default=0))
    room = width - label_width - 44  # the value after the longest bar
    built, y = [], group_gap / 2
    for key, values in groups:
        bars = []
        for series, value in values:
            bars.append(Bar(series, value, label_width, y, room * value / axis.top, bar))
            y += bar + gap
        built.append(BarGroup(key, tuple(bars)))
        y += group_gap - gap
    return BarChart(
        width, math.ceil(y + group_gap / 2 - group_gap), label_width, axis, tuple(built)
    )


# --------------------------------------------------------------------------- the page's charts


@dataclass(frozen=True)
class OverviewCharts:
    days: ColumnChart
    topics: BarChart
    flows: BarChart
    queues: BarChart


def overview_charts(overview: Overview) -> OverviewCharts:
    """The four charts of the overview page."""
    series = (*CHANNELS, OTHER)
    days = stacked_columns(
        [(f"{day.day:%d/%m/%Y}", f"{day.day:%d/%m}", day.by_channel) for day in overview.days],
        series,
    )
    topics = grouped_bars([(intent, [("topic", count)]) for intent, count in overview.topics])
    flows = grouped_bars(
        [
            (flow.flow, [("started", flow.started), ("completed", flow.completed)])
            for flow in overview.flows
        ]
    )
    queues = grouped_bars(
        [
            (queue.kind, [(age, queue.buckets[age]) for age in AGE_BUCKETS])
            for queue in overview.queues
        ]
    )
    return OverviewCharts(days, topics, flows, queues)
