"""ChartRenderer on matplotlib (the Agg backend: no display, PNG out): a hypothesis card's chart.

The series of the evidence's query over the incident window, the baseline band, the threshold as a dashed
line and the incident's start as a vertical line. Small (about 640 x 300 px) so it reads inline in a thread.
Matplotlib's pyplot state is not thread-safe, so every chart is drawn on its own Figure object (no pyplot).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: never a display

from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure

from bot.domain.hypothesis_cards import Chart

WIDTH, HEIGHT, DPI = 6.4, 3.0, 100
MAX_LEGEND = 4
TITLE_MAX = 70


def _label(labels: dict[str, str]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "value"
    return text if len(text) <= 50 else text[:49] + "…"


class MatplotlibCharts:
    """Draws `Chart` view models as PNG."""

    def render(self, chart: Chart) -> bytes:
        """The PNG of one chart."""
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
        ax = fig.add_subplot()
        for i, s in enumerate(chart.series):
            points = [(datetime.fromtimestamp(t, UTC), v) for t, v in s.points]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, linewidth=1.4, label=_label(dict(s.labels)) if i < MAX_LEGEND else None)
        start = datetime.fromtimestamp(chart.start, UTC)
        if chart.band is not None:
            ax.axhspan(chart.band[0], chart.band[1], color="tab:green", alpha=0.12, label="baseline")
        if chart.threshold is not None:
            ax.axhline(chart.threshold, color="tab:red", linestyle="--", linewidth=1, label="threshold")
        at = float(date2num(start))  # type: ignore[no-untyped-call]
        ax.axvline(at, color="black", linestyle=":", linewidth=1, label="incident start")
        title = chart.title if len(chart.title) <= TITLE_MAX else chart.title[: TITLE_MAX - 1] + "…"
        ax.set_title(title, fontsize=10, loc="left")
        if chart.what:
            ax.set_xlabel(chart.what[:100], fontsize=8)
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
        fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.2)  # fixed: tight_layout costs a third
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
