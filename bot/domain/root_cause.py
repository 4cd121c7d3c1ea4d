"""The hypotheses of an incident as they are kept: re-scored by each diagnosis, confirmed or rejected by people
(pure).

Each diagnosis scores 3 to 5 hypotheses; a kept hypothesis is one row per incident and (component, cause),
with an id that is the value of its card's Confirm / Reject buttons, so a re-run updates the same row and the
same card. A hypothesis that drops out of a later diagnosis keeps its row and card (people may have looked at
it), without a rank. Confirming one makes it the incident's root-cause candidate; both decisions are
idempotent (a second click changes nothing) and each is a timeline event.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.causes import Cause
from bot.domain.events import EventKind, NewEvent
from bot.domain.hypotheses import Diagnosis, Evidence, Hypothesis, Status, Verdict
from bot.domain.incident import Incident, IncidentClosed
from bot.domain.incident import Status as IncidentStatus

ID_PREFIX = "h-"


def scoped_id(ref: str, service: str | None, cause: Cause) -> str:
    """The id of "this component, this cause" in one incident: unique across incidents, stable across re-runs."""
    digest = hashlib.sha256(f"{ref.upper()}\x00{service or ''}\x00{cause.value}".encode()).hexdigest()
    return ID_PREFIX + digest[:16]


@dataclass(slots=True)
class StoredHypothesis:
    """A hypothesis of an incident as kept between diagnoses, with what people decided about it."""

    id: str
    incident_id: int
    title: str
    service: str | None
    cause: Cause
    prior: float
    posterior: float
    evidence: tuple[Evidence, ...]
    scored_at: datetime
    rank: int | None = None  # 1 = most probable in the latest diagnosis; None: not kept by it
    runbook: str | None = None
    origin: str = "runbook"
    status: Status = Status.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def what(self) -> str:
        """`title (service, cause)`: how the timeline and the incident name it."""
        return f"{self.title} ({self.service or 'no single component'}, {self.cause.value})"


def ranked(hypotheses: Iterable[StoredHypothesis]) -> list[StoredHypothesis]:
    """Highest posterior first (the latest diagnosis' order; ties by title)."""
    return sorted(hypotheses, key=lambda h: (-h.posterior, h.rank or math.inf, h.title))


def rescore(
    kept: Iterable[StoredHypothesis], diagnosis: Diagnosis, *, ref: str, incident_id: int, at: datetime
) -> list[StoredHypothesis]:
    """The incident's hypotheses after a diagnosis (the known ones updated in place): the scored ones new or
    re-scored (rank, numbers, evidence; people's decisions kept), the others without a rank. In rank order,
    the unranked last."""
    by_id = {h.id: h for h in kept}
    out: list[StoredHypothesis] = []
    for rank, h in enumerate(diagnosis.hypotheses, start=1):
        hid = scoped_id(ref, h.service, h.cause)
        old = by_id.pop(hid, None)
        if old is None:
            out.append(_new(hid, incident_id, h, rank, at))
        else:
            old.title, old.prior, old.posterior, old.evidence = h.title, h.prior, h.posterior, h.evidence
            old.rank, old.runbook, old.origin, old.scored_at = rank, h.runbook, h.origin, at
            out.append(old)
    for old in by_id.values():
        old.rank = None
        out.append(old)
    return out


def _new(hid: str, incident_id: int, h: Hypothesis, rank: int, at: datetime) -> StoredHypothesis:
    return StoredHypothesis(
        id=hid, incident_id=incident_id, title=h.title, service=h.service, cause=h.cause, prior=h.prior,
        posterior=h.posterior, evidence=h.evidence, scored_at=at, rank=rank, runbook=h.runbook, origin=h.origin,
    )  # fmt: skip


def decide(
    incident: Incident, hypothesis: StoredHypothesis, *, confirm: bool, actor: str, at: datetime
) -> list[NewEvent]:
    """Confirm (the incident's root-cause candidate from now on) or reject a hypothesis; nothing when it is
    already so. A closed incident takes no decision."""
    if incident.status is IncidentStatus.CLOSED:
        raise IncidentClosed(incident.ref, incident.status, "confirm or reject its hypotheses")
    wanted = Status.CONFIRMED if confirm else Status.REJECTED
    if hypothesis.status is wanted:
        return []
    hypothesis.status, hypothesis.decided_by, hypothesis.decided_at = wanted, actor, at
    payload = {"hypothesis": hypothesis.id, "service": hypothesis.service, "cause": hypothesis.cause.value}
    if confirm:
        incident.root_cause, incident.root_cause_hypothesis = hypothesis.what, hypothesis.id
        text = f"confirmed the root cause: {hypothesis.what}"
        kind = EventKind.HYPOTHESIS_CONFIRMED
    else:
        if incident.root_cause_hypothesis == hypothesis.id:
            incident.root_cause, incident.root_cause_hypothesis = None, None
        text = f"rejected the hypothesis: {hypothesis.what}"
        kind = EventKind.HYPOTHESIS_REJECTED
    incident.updated_at = at
    return [NewEvent(kind=kind, actor=actor, at=at, text=text, payload={**payload, "title": hypothesis.title})]


# -- evidence as stored (JSON) ----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def evidence_json(e: Evidence) -> dict[str, Any]:
    """One piece of evidence as stored (finite numbers or null: JSON has no NaN)."""
    return {
        "query": e.query, "verdict": e.verdict.value, "observed": _number(e.observed),
        "threshold": _number(e.threshold), "likelihood_ratio": e.likelihood_ratio, "detail": e.detail,
        "source": e.source, "expr": e.expr,
    }  # fmt: skip


def evidence_of(data: Mapping[str, Any]) -> Evidence:
    """Evidence back from what `evidence_json` stored."""
    verdict = Verdict(str(data.get("verdict", "inconclusive")))
    lr = 1.0 if verdict is Verdict.INCONCLUSIVE else float(data.get("likelihood_ratio") or 1.0)
    return Evidence(
        query=str(data.get("query", "")), verdict=verdict, observed=_number(data.get("observed")),
        threshold=_number(data.get("threshold")), likelihood_ratio=lr, detail=str(data.get("detail", "")),
        source=str(data.get("source", "promql")), expr=data.get("expr") or None,
    )  # fmt: skip
