"""The timeline of the harassment: messages and calls per day, as a PNG (matplotlib, Agg).

An item counts on the day its original was sent, in the jurisdiction's time zone; an item
whose sending date is unknown (uploaded, not forwarded with a date) is not counted: the day
it was saved says nothing about when the harassment happened. Calls are the audio items
(call recordings); every other item is a message. The figure is drawn on its own Agg
canvas, without pyplot and without touching matplotlib's global settings, so charts can be
drawn in several threads.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta, tzinfo
from pathlib import Path
from typing import Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from bot.dossier.files import utc
from dialogs.case import EvidenceItem
from dialogs.events import EvidenceKind

SIZE_INCHES: Final = (9.0, 3.5)
DPI: Final = 200
SIZE_PX: Final = (int(SIZE_INCHES[0] * DPI), int(SIZE_INCHES[1] * DPI))
"""The chart's size in pixels (the report scales it to the page width)."""
CALL_KINDS: Final = frozenset({EvidenceKind.AUDIO})
_MAX_TICKS: Final = 10
_COLOURS: Final = ("#c0392b", "#2c3e50")


@dataclass(frozen=True, slots=True)
class Labels:
    title: str
    messages: str
    calls: str
    axis: str


@dataclass(frozen=True, slots=True)
class Timeline:
    days: list[date]
    messages: list[int]
    calls: list[int]


def event_day(item: EvidenceItem, zone: tzinfo = UTC) -> date | None:
    """The day an item counts on: the original's sending date in ``zone``; None if unknown."""
    if item.forward is None or item.forward.date is None:
        return None
    return utc(item.forward.date).astimezone(zone).date()


def timeline(items: Sequence[EvidenceItem], zone: tzinfo = UTC) -> Timeline | None:
    """Count messages and calls per day, every day from the first to the last; None if no
    item has a known date."""
    dated = [(event_day(i, zone), i) for i in items]
    messages = Counter(d for d, i in dated if d is not None and i.kind not in CALL_KINDS)
    calls = Counter(d for d, i in dated if d is not None and i.kind in CALL_KINDS)
    if not messages and not calls:
        return None
    first = min(messages.keys() | calls.keys())
    last = max(messages.keys() | calls.keys())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return Timeline(days, [messages[d] for d in days], [calls[d] for d in days])


def render_chart(data: Timeline, labels: Labels, font: Path) -> bytes:
    """Draw stacked daily bars and return the PNG."""
    prop, figure, axes = _canvas(font)
    x = [date2num(day) for day in data.days]
    width = 0.8
    axes.bar(x, data.messages, width, label=labels.messages, color=_COLOURS[0])
    axes.bar(x, data.calls, width, bottom=data.messages, label=labels.calls, color=_COLOURS[1])
    axes.set_title(labels.title, fontproperties=prop, fontsize=13)
    axes.set_ylabel(labels.axis, fontproperties=prop)
    axes.legend(prop=prop, loc="upper left", frameon=False)
    _date_axis(axes, data.days)
    return _png(figure, axes)


@dataclass(frozen=True, slots=True)
class HourLabels:
    title: str
    day: str
    night: str
    axis: str


def render_hours(hours: dict[int, int], labels: HourLabels, font: Path) -> bytes:
    """Draw the messages and calls read in the screenshots per hour of the day (0-23), the
    night hours (22:00-08:00) in their own colour, and return the PNG."""
    prop, figure, axes = _canvas(font)
    night = [h for h in range(24) if h >= 22 or h < 8]
    day = [h for h in range(24) if h not in night]
    axes.bar(day, [hours.get(h, 0) for h in day], 0.8, label=labels.day, color=_COLOURS[1])
    axes.bar(night, [hours.get(h, 0) for h in night], 0.8, label=labels.night,
             color=_COLOURS[0])  # fmt: skip
    axes.set_title(labels.title, fontproperties=prop, fontsize=13)
    axes.set_ylabel(labels.axis, fontproperties=prop)
    axes.legend(prop=prop, loc="upper left", frameon=False)
    axes.set_xlim(-0.6, 23.6)
    axes.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    return _png(figure, axes)


def _canvas(font: Path) -> tuple[FontProperties, Figure, Axes]:
    """A figure of the report's size on its own Agg canvas, and the font for its labels."""
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return FontProperties(fname=str(font)), figure, figure.add_subplot()


def _png(figure: Figure, axes: Axes) -> bytes:
    """Finish the axes (whole counts, a light grid) and return the figure as a PNG."""
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _date_axis(axes: Axes, days: list[date]) -> None:
    span = len(days)
    axes.set_xlim(date2num(days[0] - timedelta(days=1)), date2num(days[-1] + timedelta(days=1)))
    axes.xaxis.set_major_locator(DayLocator(interval=max(1, math.ceil(span / _MAX_TICKS))))
    axes.xaxis.set_major_formatter(DateFormatter("%m-%d" if span < 300 else "%Y-%m-%d"))
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
