"""DigestChartRenderer on matplotlib (Agg backend, PNG out): the daily digest's chart.

Top: incidents declared per report day over 14 days, stacked by severity (SEV0 at the bottom). Bottom: the mean
time to resolve per day in minutes (a gap where nothing was resolved). About 800 x 500 px. Every chart is drawn
on its own Figure (pyplot's global state is not thread-safe, and charts are drawn in worker threads).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: never a display

from matplotlib.figure import Figure

from bot.domain.digest import DigestChart
from bot.domain.incident import Severity

WIDTH, HEIGHT, DPI = 8.0, 5.0, 100
TITLE_MAX = 90
COLOURS = {
    Severity.SEV0: "#8b0000", Severity.SEV1: "#e01e1e", Severity.SEV2: "#f28c28", Severity.SEV3: "#f2c744",
    Severity.SEV4: "#9e9e9e",
}  # fmt: skip


class MatplotlibDigestChart:
    """Draws `DigestChart` view models as PNG."""

    def render(self, chart: DigestChart) -> bytes:
        """The PNG of one digest chart."""
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
        bars, line = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        xs = list(range(len(chart.days)))
        bottom = [0] * len(xs)
        for sev in Severity:
            counts = list(chart.opened.get(sev, (0,) * len(xs)))
            if any(counts):
                bars.bar(xs, counts, bottom=bottom, color=COLOURS[sev], label=sev.value, width=0.7)
                bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        bars.set_ylabel("incidents declared", fontsize=8)
        if any(bottom):
            bars.legend(fontsize=7, loc="upper left", ncols=5)
        title = chart.title if len(chart.title) <= TITLE_MAX else chart.title[: TITLE_MAX - 1] + "…"
        bars.set_title(title, fontsize=10, loc="left")
        mttr = [float("nan") if v is None else v for v in chart.mttr_minutes]
        line.plot(xs, mttr, marker="o", linewidth=1.4, color="tab:blue")
        line.set_ylabel("MTTR (min)", fontsize=8)
        line.set_ylim(bottom=0)
        line.set_xticks(xs, [f"{d:%m-%d}" for d in chart.days], fontsize=7, rotation=45)
        for ax in (bars, line):
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3, axis="y")
        fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.13, hspace=0.12)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
