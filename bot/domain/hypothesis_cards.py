"""The hypothesis card and its chart, as neutral view models (rendered per platform: Slack's Block Kit in
integrations/slack_rooms/blocks_hypotheses.py, the PNG by the chart adapter).

One card per hypothesis in the war room: what it blames and why, prior -> posterior, each piece of evidence
with its observed value, threshold and a link to check it, and Confirm / Reject buttons whose value is the
hypothesis id. The card is updated in place when the hypothesis is re-scored or decided.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.domain.cards import ActionId, Button, Card
from bot.domain.causes import Cause
from bot.domain.evidence_links import EvidenceLinks
from bot.domain.hypotheses import Evidence, Status, Verdict
from bot.domain.metrics import Series
from bot.domain.root_cause import StoredHypothesis

MAX_EVIDENCE = 6
MAD_SCALE = 1.4826


def hypothesis_marker(hypothesis_id: str) -> str:
    """The block id that finds a hypothesis card again in the channel (and keys its chat post)."""
    return f"hypothesis:{hypothesis_id}"


def chart_marker(hypothesis_id: str) -> str:
    """The key of a hypothesis card's chart upload (one per card)."""
    return f"chart:{hypothesis_id}"


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One piece of evidence as a card shows it."""

    query: str
    verdict: Verdict
    observed: float | None
    threshold: float | None
    detail: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class HypothesisCard(Card):
    """A hypothesis in the war room."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"id", "ref"})

    id: str
    ref: str
    title: str
    service: str | None
    cause: Cause
    prior: float
    posterior: float
    status: Status
    evidence: tuple[EvidenceLine, ...]
    rank: int | None = None
    runbook: str | None = None
    decided_by: str | None = None
    actionable: bool = True

    @property
    def marker(self) -> str:
        """`hypothesis:<id>`: one card per hypothesis."""
        return hypothesis_marker(self.id)

    @property
    def buttons(self) -> tuple[Button, ...]:
        """Confirm / Reject (the one already chosen is left out), while decisions are taken."""
        if not self.actionable:
            return ()
        out = []
        if self.status is not Status.CONFIRMED:
            out.append(Button("Confirm root cause", ActionId.HYPOTHESIS_CONFIRM, self.id, style="primary"))
        if self.status is not Status.REJECTED:
            out.append(Button("Reject", ActionId.HYPOTHESIS_REJECT, self.id, style="danger"))
        return tuple(out)


def hypothesis_card(
    h: StoredHypothesis, *, ref: str, anchor: datetime, links: EvidenceLinks, actionable: bool = True
) -> HypothesisCard:
    """The card of a kept hypothesis: its evidence (supporting first) with links around the incident's start."""
    order = {Verdict.SUPPORTS: 0, Verdict.CONTRADICTS: 1, Verdict.INCONCLUSIVE: 2}
    evidence = sorted(h.evidence, key=lambda e: order[e.verdict])[:MAX_EVIDENCE]
    lines = tuple(
        EvidenceLine(e.query, e.verdict, e.observed, e.threshold, e.detail, links.link(e, anchor)) for e in evidence
    )
    return HypothesisCard(
        id=h.id, ref=ref, title=h.title, service=h.service, cause=h.cause, prior=h.prior, posterior=h.posterior,
        status=h.status, evidence=lines, rank=h.rank, runbook=h.runbook, decided_by=h.decided_by,
        actionable=actionable,
    )  # fmt: skip


# -- the chart -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chart:
    """What a hypothesis chart shows: the query's series over the incident window, the baseline band (robust:
    median +- 3 MAD of the values before the incident), the threshold, and the incident's start."""

    title: str
    series: tuple[Series, ...]
    start: float  # the incident's start (unix seconds)
    band: tuple[float, float] | None = None
    threshold: float | None = None
    what: str = ""  # the evidence's sentence, under the title


def chart_evidence(h: StoredHypothesis) -> Evidence | None:
    """The evidence a card's chart shows: the first graphable one, supporting first."""
    order = {Verdict.SUPPORTS: 0, Verdict.CONTRADICTS: 1, Verdict.INCONCLUSIVE: 2}
    for e in sorted(h.evidence, key=lambda e: order[e.verdict]):
        if e.graph:
            return e
    return None


def baseline_band(series: tuple[Series, ...], start: float, *, recent: float = 300.0) -> tuple[float, float] | None:
    """median +- 3 x 1.4826 MAD of every value before the incident's recent window (None with too few)."""
    values = [v for s in series for v in s.values_between(float("-inf"), start - recent)]
    if len(values) < 5:
        return None
    median = statistics.median(values)
    spread = MAD_SCALE * statistics.median(abs(v - median) for v in values)
    return (median - 3 * spread, median + 3 * spread)


def chart_of(h: StoredHypothesis, evidence: Evidence, series: list[Series], *, start: float, limit: int = 8) -> Chart:
    """The chart of one hypothesis' evidence from the series of its query (at most `limit` series)."""
    kept = tuple(series[:limit])
    return Chart(h.title, kept, start, baseline_band(kept, start), evidence.threshold, evidence.detail)
