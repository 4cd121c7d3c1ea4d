"""The post-mortem draft of an incident as a neutral view model (what it says, not how: the Markdown renderer
in integrations/ says how and escapes the data), built from the incident, its event log and its hypotheses
(pure). The MTTx figures come from the log (bot.domain.mttx).

Sections: summary, impact, timeline, root cause and evidence (the confirmed hypothesis), actions taken,
five whys, action items (owners, due dates), what went well / poorly / lucky, metrics.

"Actions taken" reads the log generically: an entry is an action when its kind is one of `ACTION_KINDS`,
belongs to one of the `ACTION_FAMILIES` (`remediation.*`, `action.*`: kinds added later slot in), or its
payload says `"action_taken": true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Protocol

from bot.domain.events import Event, EventKind
from bot.domain.hypotheses import Status as HypothesisStatus
from bot.domain.incident import Incident, Severity
from bot.domain.mttx import Milestones, human, milestones
from bot.domain.policy import SlaTargets
from bot.domain.root_cause import StoredHypothesis
from bot.domain.text import Mention, Text, visible
from bot.domain.timeline import actor, timeline_line

TIMELINE_MAX = 300
"""The most timeline entries a post-mortem lists (the first ones; the rest are counted)."""

ACTION_KINDS = frozenset(
    k.value
    for k in (
        EventKind.SEVERITY_CHANGED, EventKind.ROLE_ASSIGNED, EventKind.STATUS_CHANGED, EventKind.ESCALATED,
        EventKind.PAGED, EventKind.DIAGNOSIS_REQUESTED, EventKind.HYPOTHESIS_CONFIRMED,
        EventKind.HYPOTHESIS_REJECTED, EventKind.RESOLVED, EventKind.DEPLOY_FROZEN, EventKind.DEPLOY_UNFROZEN,
        EventKind.CONTROL_RELEASED,
    )
)  # fmt: skip
ACTION_FAMILIES = frozenset({"remediation", "action"})
# Bookkeeping the timeline of a post-mortem leaves out.
NOT_IN_TIMELINE = frozenset(
    k.value for k in (EventKind.POSTMORTEM_REQUESTED, EventKind.REMINDER, EventKind.DIAGNOSIS_REQUESTED)
)


def is_action(event: Event) -> bool:
    """Whether a log entry is something people (or the bot for them) did about the incident."""
    return (
        event.kind in ACTION_KINDS
        or event.kind.split(".", 1)[0] in ACTION_FAMILIES
        or event.payload.get("action_taken") is True
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline or of the actions taken."""

    at: datetime
    text: Text


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One piece of evidence of the root cause, as people read it."""

    query: str
    verdict: str
    observed: str
    threshold: str
    detail: str


@dataclass(frozen=True, slots=True)
class RootCause:
    """The confirmed hypothesis and what supports it."""

    title: str
    service: str
    cause: str
    posterior: str
    confirmed_by: Text
    confirmed_at: datetime | None
    evidence: tuple[EvidenceLine, ...]


@dataclass(frozen=True, slots=True)
class ActionItem:
    """A follow-up: what, who owns it, by when."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"id"})

    id: str
    text: str
    owner: Text
    due: date | None
    added_by: Text


@dataclass(frozen=True, slots=True)
class Figure:
    """One of MTTD / MTTA / MTTI / MTTR: its value, its definition, and the SLA target when there is one."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"name"})

    name: str
    meaning: str
    value: str
    seconds: float | None
    target: str | None = None
    met: bool | None = None


DEFINITIONS = {
    "MTTD": "time to detect: the first alert's start (startsAt) to the declaration",
    "MTTA": "time to acknowledge: the declaration to the first acknowledgement",
    "MTTI": "time to identify: the declaration to the confirmation of the root cause (the confirmed hypothesis)",
    "MTTR": "time to resolve: the declaration to the resolution",
}


@dataclass(frozen=True, slots=True)
class PostmortemDoc:
    """The post-mortem draft of one incident, version `version` (one per resolve or regeneration)."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"ref", "jira_key", "severity", "worst_severity", "status"})

    ref: str
    version: int
    generated_at: datetime
    title: str
    summary: str
    severity: str
    worst_severity: str
    status: str
    declared_by: Text
    commander: Text | None
    jira_key: str | None
    services: tuple[str, ...]
    regions: tuple[str, ...]
    alertnames: tuple[str, ...]
    alert_count: int
    impact_duration: str
    milestones: Milestones
    figures: tuple[Figure, ...]
    timeline: tuple[Entry, ...]
    timeline_omitted: int
    root_cause: RootCause | None
    ruled_out: tuple[str, ...]
    actions_taken: tuple[Entry, ...]
    action_items: tuple[ActionItem, ...]
    went_well: tuple[str, ...]
    went_poorly: tuple[str, ...]
    lucky: tuple[str, ...]


class PostmortemRenderer(Protocol):
    """Writes a post-mortem draft as a document (Markdown from a Jinja2 template)."""

    def render(self, doc: PostmortemDoc) -> str:
        """The document's text; every data string in it escaped for its markup."""
        ...


def person(user: str | None) -> Text:
    """A user as a mention when it is a user id, else as the name (an alert source, `warroom`)."""
    if not user:
        return Text.of("nobody")
    who = Mention(user)
    return Text.of(who if who.valid else user)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def root_cause_of(hypotheses: Sequence[StoredHypothesis], chosen: str | None) -> RootCause | None:
    """The incident's confirmed hypothesis (the one it names, else the latest confirmed), with its evidence."""
    confirmed = [h for h in hypotheses if h.status is HypothesisStatus.CONFIRMED]
    h = next((x for x in confirmed if x.id == chosen), None) or max(
        confirmed, key=lambda x: x.decided_at or datetime.min.replace(tzinfo=x.scored_at.tzinfo), default=None
    )
    if h is None:
        return None
    evidence = tuple(
        EvidenceLine(e.query, e.verdict.value, _number(e.observed), _number(e.threshold), e.detail) for e in h.evidence
    )
    return RootCause(
        title=h.title, service=h.service or "no single component", cause=h.cause.value,
        posterior=f"{h.posterior:.0%}", confirmed_by=person(h.decided_by), confirmed_at=h.decided_at,
        evidence=evidence,
    )  # fmt: skip


def action_items_of(events: Sequence[Event]) -> tuple[ActionItem, ...]:
    """The action items the log records, in the order they were added."""
    items = []
    for e in events:
        if e.kind != EventKind.ACTION_ITEM_ADDED.value:
            continue
        p = e.payload
        try:
            due = date.fromisoformat(str(p.get("due"))) if p.get("due") else None
        except ValueError:
            due = None
        owner = str(p.get("owner") or "")
        who = person(owner) if owner else Text.of("unassigned")
        items.append(ActionItem(str(p.get("item") or e.id), str(p.get("text") or e.text), who, due, actor(e)))
    return tuple(items)


def figures_of(m: Milestones, targets: SlaTargets | None) -> tuple[Figure, ...]:
    """The four figures, each against its SLA target when the severity has one (MTTD, MTTA, MTTR)."""
    minutes = {
        "MTTD": targets.detect_minutes if targets else None,
        "MTTA": targets.ack_minutes if targets else None,
        "MTTI": None,
        "MTTR": targets.resolve_minutes if targets else None,
    }
    out = []
    for name, value in (("MTTD", m.mttd), ("MTTA", m.mtta), ("MTTI", m.mtti), ("MTTR", m.mttr)):
        target = minutes[name]
        seconds = value.total_seconds() if value is not None else None
        met = None if target is None or seconds is None else seconds <= target * 60
        label = f"{target} min" if target is not None else None
        out.append(Figure(name, DEFINITIONS[name], human(value), seconds, label, met))
    return tuple(out)


def _observations(figures: tuple[Figure, ...], events: Sequence[Event]) -> tuple[list[str], list[str]]:
    """What went well and what went poorly, as far as the figures and the log tell."""
    well: list[str] = []
    poorly: list[str] = []
    for f in figures:
        if f.met is True:
            well.append(f"{f.name} {f.value}, within the target of {f.target}.")
        elif f.met is False:
            poorly.append(f"{f.name} {f.value}, past the target of {f.target}.")
    mtti = next(f for f in figures if f.name == "MTTI")
    if mtti.seconds is not None:
        well.append(f"The root cause was confirmed {mtti.value} after the declaration.")
    else:
        poorly.append("No root cause was confirmed during the incident.")
    if next(f for f in figures if f.name == "MTTA").seconds is None:
        poorly.append("Nobody acknowledged the incident.")
    breaches = sorted({str(e.payload.get("sla") or "?") for e in events if e.kind == EventKind.SLA_BREACHED.value})
    if breaches:
        poorly.append(f"SLA breached: {', '.join(breaches)}.")
    escalations = sum(1 for e in events if e.kind == EventKind.ESCALATED.value)
    if escalations:
        poorly.append(f"Escalated {escalations} time(s).")
    return well, poorly


def _worst(incident: Incident, events: Sequence[Event]) -> str:
    seen = [incident.severity.value]
    seen += [str(e.payload.get(k)) for e in events for k in ("severity", "new") if e.payload.get(k)]
    valid = [Severity(s) for s in seen if s in Severity.__members__]
    return min(valid, key=lambda s: s.rank).value


@dataclass(frozen=True, slots=True)
class Sources:
    """What a post-mortem is drawn from."""

    incident: Incident
    events: Sequence[Event]
    hypotheses: Sequence[StoredHypothesis] = ()
    first_alert_at: datetime | None = None  # from the alert rows, for incidents declared before the log held it
    targets: SlaTargets | None = None


def postmortem(src: Sources, *, version: int, generated_at: datetime) -> PostmortemDoc:
    """The post-mortem draft of an incident from its log (in order), hypotheses and severity's SLA targets."""
    inc, events = src.incident, list(src.events)
    m = milestones(events, first_alert_at=src.first_alert_at)
    figures = figures_of(m, src.targets)
    well, poorly = _observations(figures, events)
    shown = [e for e in events if e.kind not in NOT_IN_TIMELINE]
    cause = root_cause_of(src.hypotheses, inc.root_cause_hypothesis)
    ruled_out = tuple(h.what for h in src.hypotheses if h.status is HypothesisStatus.REJECTED)
    return PostmortemDoc(
        ref=inc.ref, version=version, generated_at=generated_at, title=visible(inc.title),
        summary=visible(inc.summary or ""), severity=inc.severity.value, worst_severity=_worst(inc, events),
        status=inc.status.value, declared_by=person(inc.declared_by),
        commander=person(inc.commander) if inc.commander else None, jira_key=inc.jira_key,
        services=tuple(inc.services), regions=tuple(inc.regions), alertnames=tuple(inc.alertnames),
        alert_count=inc.alert_count, impact_duration=human(m.impact), milestones=m, figures=figures,
        timeline=tuple(Entry(e.at, timeline_line(e)) for e in shown[:TIMELINE_MAX]),
        timeline_omitted=max(0, len(shown) - TIMELINE_MAX), root_cause=cause, ruled_out=ruled_out,
        actions_taken=tuple(Entry(e.at, timeline_line(e)) for e in events if is_action(e)),
        action_items=action_items_of(events), went_well=tuple(well), went_poorly=tuple(poorly), lucky=(),
    )  # fmt: skip
