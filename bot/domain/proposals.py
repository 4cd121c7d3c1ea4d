"""Building proposals (pure): the remediation steps of the runbook behind the confirmed (else the leading)
hypothesis become proposed actions, each with what its approval card shows (rationale, expected impact,
blast radius, rollback plan) and the values its argv will be rendered with.

The argv values are the alert's raw labels and the incident's own facts, not the query-safe ones the
diagnosis uses: they are checked against strict patterns by the executor's renderer (a value that fails
makes the action refused, shown and audited, never runnable), so nothing is silently replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.hypotheses import Status
from bot.domain.incident import Incident
from bot.domain.policy import Decision
from bot.domain.remediation import ActionStatus, RemediationAction, action_id
from bot.domain.root_cause import StoredHypothesis
from bot.domain.runbook import Runbook, Step, UndefinedPlaceholder, placeholders, render, render_query

TARGET_NAMES = ("deployment", "namespace", "service", "instance")


@dataclass(frozen=True, slots=True)
class Basis:
    """Why actions are proposed: the hypothesis (confirmed, else leading) and its runbook."""

    runbook: Runbook
    hypothesis: StoredHypothesis | None

    @property
    def key(self) -> str:
        """What the action ids are derived from."""
        return f"{self.hypothesis.id if self.hypothesis else 'runbook'}:{self.runbook.id}"

    def rationale(self) -> str:
        """One sentence: why these steps."""
        h = self.hypothesis
        if h is None:
            return f"The incident matches the runbook {self.runbook.title}."
        if h.status is Status.CONFIRMED:
            who = f" by {h.decided_by}" if h.decided_by else ""
            return f"Root cause confirmed{who}: {h.what}. Runbook: {self.runbook.title}."
        return f"Leading hypothesis ({100 * h.posterior:.0f}%): {h.what}. Runbook: {self.runbook.title}."


def choose_basis(
    hypotheses: Iterable[StoredHypothesis], library: Mapping[str, Runbook], incident_runbook: str | None
) -> Basis | None:
    """The confirmed hypothesis with a runbook that has remediation steps, else the leading (highest posterior)
    open one, else the incident's matched runbook; None when none of them offers a step."""
    ordered = sorted(hypotheses, key=lambda h: (h.status is not Status.CONFIRMED, -h.posterior, h.id))
    for h in ordered:
        if h.status is Status.REJECTED:
            continue
        book = library.get(h.runbook or "")
        if book is not None and book.remediation:
            return Basis(book, h)
        if h.status is Status.CONFIRMED:
            break  # a confirmed cause without steps: do not fall back to a lesser hypothesis' steps
    book = library.get(incident_runbook or "")
    return Basis(book, None) if book is not None and book.remediation else None


def argv_values(step: Step, facts: Mapping[str, str]) -> dict[str, str]:
    """The values of the placeholders the step's argv and rollback use (missing ones are left out: the
    renderer refuses them by name)."""
    names = {n for arg in (*step.argv, *(step.rollback or ())) for n in placeholders(arg)}
    return {n: facts[n] for n in sorted(names) if n in facts}


def facts_of(
    incident: Incident, basis: Basis, labels: Mapping[str, str], deployments: Mapping[str, str]
) -> dict[str, str]:
    """Raw values for argv placeholders: the blamed (else alerting) service, its deployment, the alert's labels,
    and the runbook's params (an alert label of a param's name overrides its default)."""
    service = (basis.hypothesis.service if basis.hypothesis else None) or next(iter(incident.services), None)
    facts: dict[str, str] = {}
    for name, default in basis.runbook.params.items():
        try:
            facts[name] = render(default, {"service": service or "", **labels})
        except UndefinedPlaceholder:
            continue
    facts.update({k: str(v) for k, v in labels.items()})
    if service:
        facts["service"] = service
        facts["deployment"] = deployments.get(service, service)
    return facts


def blast_radius(step: Step, values: Mapping[str, str], incident: Incident) -> str:
    """What the step touches: its executor and targets, and what the incident covers."""
    targets = ", ".join(f"{n} {values[n]}" for n in TARGET_NAMES if n in values) or "no named target"
    services = ", ".join(incident.services) or "no service named"
    return f"{step.executor} on {targets}; the incident covers {services} ({incident.alert_count} alerts)"


def expected_impact(step: Step, verify: Mapping[str, object] | None) -> str:
    """What should happen, and how it is checked."""
    if step.verify is None or verify is None:
        return f"{step.title}. No verification query: check by hand."
    return f"{step.title}. Verified afterwards: the query must read {step.verify.expect.describe()}."


def build_actions(
    incident: Incident,
    basis: Basis,
    *,
    facts: Mapping[str, str],
    query_values: Mapping[str, str],
    decide: Callable[[Step], Decision],
    refusal: Callable[[Step, Mapping[str, str]], str | None],
    requested_by: str,
    at: datetime,
    ttl: timedelta,
) -> list[RemediationAction]:
    """One action per remediation step of the basis' runbook. `decide` is the policy for a step; `refusal`
    says why its values may not be run with (None: they may); `query_values` render the verification query."""
    out: list[RemediationAction] = []
    for step in basis.runbook.remediation:
        values = argv_values(step, facts)
        why_not = refusal(step, values)
        verify = None
        if step.verify is not None:
            try:
                query = render_query(step.verify.query, query_values)
                verify = {"query": query.model_dump(exclude_none=True), "expect": step.verify.expect.model_dump()}
            except UndefinedPlaceholder:
                verify = None
        shown = tuple(_shown(arg, values) for arg in step.argv)
        action = RemediationAction(
            id=action_id(incident.ref, basis.key, step.id, shown), incident_id=incident.id, runbook=basis.runbook.id,
            step=step.id, title=_shown(step.title, values), risk=step.risk, executor=step.executor,
            argv=tuple(step.argv), values=values, rollback=tuple(step.rollback) if step.rollback else None,
            verify=verify, hypothesis=basis.hypothesis.id if basis.hypothesis else None,
            rationale=basis.rationale(), impact=expected_impact(step, verify),
            blast_radius=blast_radius(step, values, incident), requested_by=requested_by,
            decision=decide(step), proposed_at=at, expires_at=at + ttl,
            status=ActionStatus.REFUSED if why_not else ActionStatus.PROPOSED, refusal=why_not,
        )  # fmt: skip
        out.append(action)
    return out


def _shown(template: str, values: Mapping[str, str]) -> str:
    """A template as people read it: the values put in, an unknown placeholder left as `{{name}}`."""
    try:
        return render(template, values)
    except UndefinedPlaceholder:
        return template


def shown_argv(action: RemediationAction, *, rollback: bool = False) -> tuple[str, ...]:
    """The argv (or rollback argv) as the card shows it."""
    argv = action.rollback if rollback else action.argv
    return tuple(_shown(a, action.values) for a in argv or ())
