"""Hypothesis use cases: what the diagnosis of an incident looks at, keeping its result, listing, confirming or
rejecting a hypothesis, asking for a new diagnosis, and finding the runbook of an incident."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.events import EventKind
from bot.domain.hypotheses import Status
from bot.domain.incident import Incident, IncidentClosed
from bot.domain.root_cause import StoredHypothesis, decide, ranked, rescore
from bot.domain.runbook import Runbook
from bot.domain.runbook_match import IncidentFacts, rank_runbooks
from bot.services.deps import Deps
from bot.services.diagnostics import AlertView, DiagnosisReport, IncidentView
from bot.services.errors import BadRequest, IncidentNotFound, IncidentNotOpen, ServiceError
from bot.services.incidents import Outcome
from bot.services.uow import UnitOfWork


class HypothesisNotFound(ServiceError):
    """No hypothesis with that id (a button from another installation, or a stale one)."""

    code = "not_found"


@dataclass(frozen=True, slots=True)
class Kept:
    """An incident after a diagnosis was kept: its hypotheses in rank order, and whether its runbook changed."""

    incident: Incident
    hypotheses: list[StoredHypothesis]
    runbook_changed: bool


async def _incident(uow: UnitOfWork, ref: str, *, lock: bool = False) -> Incident:
    incident = await uow.incidents.get(ref, lock=lock, roles=False)
    if incident is None:
        raise IncidentNotFound(f"no incident {ref.upper()}")
    return incident


async def incident_view(deps: Deps, *, incident_id: int) -> tuple[Incident, IncidentView] | None:
    """The incident and what its diagnosis looks at (its first alerts, title, declare time); None if gone."""
    async with deps.store.read() as uow:
        incident = await uow.incidents.get_by_id(incident_id, roles=False)
        if incident is None:
            return None
        alerts = await uow.alerts.of_incident(incident_id, limit=deps.diagnosis.max_alerts)
    views = tuple(AlertView(dict(a.labels), dict(a.annotations), a.starts_at) for a in alerts)
    return incident, IncidentView(views, incident.title, incident.declared_at)


async def keep_diagnosis(deps: Deps, *, incident_id: int, report: DiagnosisReport) -> Kept | None:
    """Store a diagnosis' hypotheses (new ones added, known ones re-scored, decisions kept) and the incident's
    best-matching runbook; None when the incident is gone."""
    now = deps.clock.now()
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if incident is None:
            return None
        known = await uow.hypotheses.of_incident(incident_id)
        hypotheses = rescore(known, report.diagnosis, ref=incident.ref, incident_id=incident_id, at=now)
        await uow.hypotheses.save(hypotheses)
        best = report.runbooks[0].runbook.id if report.runbooks else None
        changed = best is not None and best != incident.runbook
        if changed:
            incident.runbook = best
            await uow.save(incident)
        return Kept(incident, hypotheses, changed)


async def hypotheses_of(deps: Deps, *, ref: str) -> tuple[Incident, list[StoredHypothesis]]:
    """An incident and its hypotheses, highest posterior first."""
    async with deps.store.read() as uow:
        incident = await _incident(uow, ref)
        return incident, ranked(await uow.hypotheses.of_incident(incident.id))


async def hypothesis(deps: Deps, *, hypothesis_id: str) -> tuple[Incident, StoredHypothesis]:
    """One hypothesis and its incident."""
    async with deps.store.read() as uow:
        found = await uow.hypotheses.get(hypothesis_id)
        incident = await uow.incidents.get_by_id(found.incident_id, roles=False) if found else None
        if found is None or incident is None:
            raise HypothesisNotFound("this hypothesis is not known here (the card may be stale)")
        return incident, found


async def judge_hypothesis(deps: Deps, *, hypothesis_id: str, confirm: bool, actor: str) -> Outcome:
    """Confirm (the incident's root-cause candidate) or reject a hypothesis; a second click changes nothing."""
    now = deps.clock.now()
    verb = "confirmed" if confirm else "rejected"
    incident, _ = await hypothesis(deps, hypothesis_id=hypothesis_id)
    async with deps.store.transaction() as uow:
        incident = await _incident(uow, incident.ref, lock=True)  # the incident first: one lock order
        found = await uow.hypotheses.get(hypothesis_id, lock=True)
        if found is None:
            raise HypothesisNotFound("this hypothesis is not known here (the card may be stale)")
        try:
            events = decide(incident, found, confirm=confirm, actor=actor, at=now)
        except IncidentClosed as exc:
            raise IncidentNotOpen(f"{exc}: this card is stale.") from None
        if not events:
            return Outcome(incident, False, f"this hypothesis of {incident.ref} is already {verb}")
        await uow.hypotheses.save([found])
        await uow.save(incident, events)
        return Outcome(incident, True, f"hypothesis {verb} for {incident.ref}: {found.what}")


async def request_diagnosis(deps: Deps, *, ref: str, actor: str, request_key: str | None = None) -> Outcome:
    """Ask for a new diagnosis now (the diagnosis reactor runs it and updates the cards)."""
    if not deps.diagnosis.enabled:
        raise BadRequest("diagnostics are off: set PROMETHEUS_URL (or configure AWS for CloudWatch) to turn them on")
    now = deps.clock.now()
    key = f"{EventKind.DIAGNOSIS_REQUESTED.value}:{request_key}" if request_key else None
    async with deps.store.transaction() as uow:
        incident = await _incident(uow, ref, lock=True)
        text = "asked for a new diagnosis"
        stored = await uow.save(incident, incident.add_text(EventKind.DIAGNOSIS_REQUESTED, text, actor=actor, at=now,
                                                            key=key))  # fmt: skip
        if not stored:
            return Outcome(incident, False, f"a new diagnosis of {incident.ref} is already on its way")
        return Outcome(incident, True, f"re-running the diagnosis of {incident.ref}: its cards will update")


def find_runbook(deps: Deps, runbook_id: str) -> Runbook:
    """A runbook of the library by id; BadRequest naming the known ones otherwise."""
    library = {r.id: r for r in deps.diagnosis.runbooks}
    found = library.get(runbook_id.strip().lower())
    if found is None:
        known = ", ".join(sorted(library)) or "none loaded"
        raise BadRequest(f"no runbook `{runbook_id.strip()[:80]}` (known: {known})")
    return found


async def runbook_of(deps: Deps, *, ref: str) -> Runbook:
    """The incident's best-matching runbook: the one its diagnosis matched, else matched now from its alerts."""
    async with deps.store.read() as uow:
        incident = await _incident(uow, ref)
        alerts = await uow.alerts.of_incident(incident.id, limit=deps.diagnosis.max_alerts)
    if incident.runbook:
        return find_runbook(deps, incident.runbook)
    labels = deps.diagnosis.settings.service_labels
    facts = IncidentFacts.of([a.labels for a in alerts], [a.annotations for a in alerts], title=incident.title,
                             service_labels=labels)  # fmt: skip
    matches = rank_runbooks(deps.diagnosis.runbooks, facts, limit=1)
    if not matches:
        raise BadRequest(f"no runbook matches {incident.ref}: name one, e.g. `/incident runbook error-rate-spike`")
    return matches[0].runbook


def open_count(hypotheses: list[StoredHypothesis]) -> int:
    """How many are still open (neither confirmed nor rejected)."""
    return sum(1 for h in hypotheses if h.status is Status.OPEN)
