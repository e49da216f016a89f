"""Charts as PNG images (matplotlib, Agg backend): task progress, survey results, and the
ledger's completion over time. Each is drawn on its own Figure (no pyplot state) in a
fixed size, with the bundled CJK font; callers run them in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from bot.core.formatting import short_day_text
from bot.reports.fonts import chart_rc

WIDTH, HEIGHT, DPI = 1000, 600, 100  # pixels of every chart
LABEL_WIDTH = 12  # characters per line of a category label
_draw_lock = threading.Lock()  # rc_context changes process-wide settings while it draws


def _wrap(text: str, width: int = LABEL_WIDTH) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) or " "


def _render(draw: Callable[[Axes], None]) -> bytes:
    with _draw_lock, matplotlib.rc_context(chart_rc()):  # type: ignore[arg-type]
        figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        draw(axes)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def stacked_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    xlabel: str,
    hatched: Sequence[str] = (),
) -> bytes:
    """Horizontal stacked bars: one bar per category, one segment per (label, colour, values);
    the series named in ``hatched`` are drawn hatched too (they read in black and white)."""

    def draw(axes: Axes) -> None:
        positions = list(range(len(categories)))
        left = [0] * len(categories)
        for name, colour, values in series:
            if not any(values):
                continue
            bars = axes.barh(
                positions,
                values,
                left=left,
                color=colour,
                label=name,
                hatch="//" if name in hatched else None,
                edgecolor="white",
            )
            axes.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center")
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(positions, [_wrap(c) for c in categories])
        axes.invert_yaxis()
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(xlabel)
        axes.set_title(title)
        if any(any(values) for _n, _c, values in series):
            axes.legend(loc="best")

    return _render(draw)


def survey_chart(
    title: str,
    items: Sequence[str],
    choices: Sequence[str],
    counts: Mapping[str, Mapping[str, int]],
    ylabel: str,
) -> bytes:
    """Grouped bars of a survey: per item (question), one bar per choice with its count."""

    def draw(axes: Axes) -> None:
        width = 0.8 / max(1, len(choices))
        for index, choice in enumerate(choices):
            values = [counts.get(item, {}).get(choice, 0) for item in items]
            positions = [i + (index - (len(choices) - 1) / 2) * width for i in range(len(items))]
            bars = axes.bar(positions, values, width=width, label=choice)
            axes.bar_label(bars, fmt="%d")
        axes.set_xticks(range(len(items)), [_wrap(item, 16) for item in items])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.legend()

    return _render(draw)


def completion_chart(title: str, series: Sequence[tuple[date, float]], ylabel: str) -> bytes:
    """The ledger's completion rate day by day (a step line, 0–100 %)."""

    def draw(axes: Axes) -> None:
        days: list[Any] = [day for day, _rate in series]  # matplotlib's stubs lack dates
        rates = [rate * 100 for _day, rate in series]
        if days:
            axes.step(days, rates, where="post", color="#2e7d32", linewidth=2)
            axes.fill_between(days, rates, step="post", color="#a5d6a7", alpha=0.5)
        axes.set_ylim(0, 100)
        axes.yaxis.set_major_formatter(PercentFormatter())
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.grid(axis="y", alpha=0.3)
        _local_dates(axes)

    return _render(draw)


def _local_dates(axes: Axes) -> None:
    """Day ticks written in the reader's language (3月1日 / 1 Mar), not ISO."""
    axes.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: short_day_text(num2date(value).date()))
    )


def status_chart(
    title: str,
    days: Sequence[date],
    series: Sequence[tuple[str, str, Sequence[int]]],
    ylabel: str,
) -> bytes:
    """Counts over time, stacked: one band per (label, colour, values), e.g. the ledger's
    done / in progress / overdue / to do items at the end of each day."""

    def draw(axes: Axes) -> None:
        x: list[Any] = list(days)  # matplotlib's stubs lack dates
        shown = [(name, colour, list(values)) for name, colour, values in series]
        if x:  # each day's band runs to the next day: the last one needs an end too
            x.append(x[-1] + timedelta(days=1))
            for _name, _colour, values in shown:
                values.append(values[-1])
        if x:
            axes.stackplot(
                x,
                *[values for _n, _c, values in shown],
                labels=[name for name, _c, _v in shown],
                colors=[colour for _n, colour, _v in shown],
                step="post",
            )
            axes.legend(loc="upper left")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.grid(axis="y", alpha=0.3)
        _local_dates(axes)

    return _render(draw)
