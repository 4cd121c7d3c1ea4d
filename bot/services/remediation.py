"""Remediation use cases: propose the steps of the confirmed (else leading) hypothesis' runbook, approve or
reject one (button or `/incident approve|reject <action-id>`), expire an approval nobody gave, and run by
policy what no longer needs one once human control is released.

Every decision is a state transition taken with the incident locked and saved as a conditional update
(bot.db.action_repo), so two approvals at once record one and queue one execution. A refused attempt (not an
approver, self-approval of HIGH, expired, decided, superseded, a forbidden or unsafe action) changes nothing
but is recorded in the hash-chained log, then reported to whoever tried. Execution is a durable timer
(`remediation-run`), see bot.services.remediation_run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.authority import Approvers, Refused, check_approve
from bot.domain.events import EventKind
from bot.domain.execution import ExecutionRefused, build_request
from bot.domain.incident import Incident
from bot.domain.policy import Decision
from bot.domain.proposals import build_actions, choose_basis, facts_of
from bot.domain.remediation import WARROOM, ActionStatus, RemediationAction, refused_event
from bot.domain.runbook import Risk, Step, placeholder_values
from bot.services.deps import Deps
from bot.services.errors import ServiceError
from bot.services.incidents import Outcome
from bot.services.uow import UnitOfWork

# The entry `/incident release` records (human control lifted): what it held back may run by policy now.
RELEASED = "incident.control_released"
RELEASE_KINDS = frozenset(k.value for k in EventKind if k.value == RELEASED)
EXPIRY = "remediation-expiry"
RUN = "remediation-run"
VERIFY = "remediation-verify"


class ActionNotFound(ServiceError):
    """No action with that id (a card from another installation, or a mistyped id)."""

    code = "not_found"


class ActionRefused(ServiceError):
    """An approval or rejection refused by a rule (recorded in the log); the message says which."""

    code = "forbidden"

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def expiry_key(action_id: str) -> str:
    """The timer that expires an action's approval."""
    return f"{EXPIRY}:{action_id}"


def run_key(action_id: str) -> str:
    """The timer (durable job) that runs an approved action, once."""
    return f"{RUN}:{action_id}"


# -- proposing --------------------------------------------------------------------------------------------


def _refusal(deps: Deps, action_id: str, step: Step, values: Mapping[str, str]) -> str | None:
    """Why a step may not run with these values (strict patterns, an executor not enabled), or None."""
    registry = deps.remediation.executors
    try:
        build_request(action_id=action_id, executor=step.executor, template=step.argv, values=values)
        if step.rollback:
            build_request(action_id=action_id, executor=step.executor, template=step.rollback, values=values)
        if registry is not None:
            registry.resolve(step.executor)
    except ExecutionRefused as exc:
        return str(exc)
    return None


async def _build(deps: Deps, uow: UnitOfWork, incident: Incident, requested_by: str) -> list[RemediationAction]:
    """The actions the incident's current diagnosis calls for (none without a runbook that has steps)."""
    library = {r.id: r for r in deps.diagnosis.runbooks}
    basis = choose_basis(await uow.hypotheses.of_incident(incident.id), library, incident.runbook)
    if basis is None:
        return []
    alerts = await uow.alerts.of_incident(incident.id, limit=1)
    labels = {str(k): str(v) for k, v in (alerts[0].labels if alerts else {}).items()}
    settings = deps.diagnosis.settings
    facts = facts_of(incident, basis, labels, settings.deployments)
    service = facts.get("service")
    query_values = placeholder_values(
        labels=labels, service=service, service_label=settings.service_labels[0],
        deployment=settings.deployments.get(service or ""), params=basis.runbook.params,
        durations={"window": settings.window, "lookback": settings.lookback, "baseline": settings.baseline},
    )  # fmt: skip
    r = deps.remediation
    return build_actions(
        incident, basis, facts=facts, query_values=query_values, requested_by=requested_by, at=deps.clock.now(),
        ttl=r.approval_ttl, refusal=lambda step, values: _refusal(deps, "check", step, values),
        decide=lambda step: _decide(deps, incident, step),
    )  # fmt: skip


def _decide(deps: Deps, incident: Incident, step: Step) -> Decision:
    return deps.remediation.policy.decide(
        incident.severity, step.risk, human_control=incident.human_control, has_rollback=step.rollback is not None
    )


async def propose(deps: Deps, *, incident_id: int, requested_by: str = WARROOM) -> list[RemediationAction]:
    """Propose the remediation steps of the incident's confirmed (else leading) hypothesis' runbook; the new
    actions. A proposal on the same basis finds its actions again (nothing new); one on a new basis supersedes
    the actions still waiting. What the policy lets run by itself is approved at once and queued."""
    if not deps.remediation.enabled:
        return []
    now = deps.clock.now()
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if incident is None or not incident.is_open:
            return []
        built = await _build(deps, uow, incident, requested_by)
        existing = await uow.actions.of_incident(incident_id)
        known = {a.id for a in existing}
        new = [a for a in built if a.id not in known]
        if not new:
            return []
        events = []
        for old in existing:
            if old.status is ActionStatus.PROPOSED:
                events += old.supersede(by=new[0].id, at=now)
                await uow.actions.save(old)
                await uow.cancel_timer(expiry_key(old.id))
        for action in new:
            events += action.proposed()
            if action.status is not ActionStatus.PROPOSED:
                continue
            if action.decision is Decision.AUTO:
                events += action.approve(actor=WARROOM, at=now, auto=True)
                await uow.schedule_timer(kind=RUN, key=run_key(action.id), due_at=now, incident_id=incident_id,
                                         payload={"action": action.id})  # fmt: skip
            else:
                await uow.schedule_timer(kind=EXPIRY, key=expiry_key(action.id), due_at=action.expires_at,
                                         incident_id=incident_id, payload={"action": action.id})  # fmt: skip
        await uow.actions.add(new)
        await uow.save(incident, events)
        return new


async def propose_after_diagnosis(deps: Deps, incident_id: int) -> None:
    """The diagnosis reactor's hook: propose for the (new) leading hypothesis, if remediation is on."""
    await propose(deps, incident_id=incident_id)


# -- deciding ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _No:
    rule: str
    message: str


STALE = {
    ActionStatus.EXPIRED: ("expired", "this approval expired: the action was not run (ask for a new proposal)"),
    ActionStatus.SUPERSEDED: ("superseded", "this card is stale: a newer proposal replaced it"),
    ActionStatus.REFUSED: ("unsafe_value", "this action can never run"),
}


def _bare(refusal: str) -> str:
    """An executor's refusal without its own `refused:` and `nothing was run` (the reply says both once)."""
    return refusal.removeprefix("refused: ").removesuffix("; nothing was run")


def _why_not(
    incident: Incident, action: RemediationAction, approvers: Approvers, *, approve: bool, actor: str
) -> _No | None:
    """The first rule that refuses this decision, or None."""
    if not incident.is_open:
        return _No("incident_closed", f"{incident.ref} is {incident.status.value}: this card is stale")
    if action.status in STALE:
        rule, message = STALE[action.status]
        return _No(rule, f"{message} ({_bare(action.refusal)})" if action.refusal else message)
    if action.status is not ActionStatus.PROPOSED:
        by = f" by {action.decided_by}" if action.decided_by else ""
        now = action.status.value.replace("_", " ")
        return _No("already_decided", f"this action was already decided{by} (it is {now}): nothing changes")
    if approve and action.decision is Decision.FORBIDDEN:
        return _No("forbidden", "the remediation policy forbids this step for this incident")
    try:
        check_approve(actor=actor, requester=action.requested_by, risk=action.risk, commander=incident.commander,
                      approvers=approvers)  # fmt: skip
    except Refused as exc:
        own_high = action.risk is Risk.HIGH and actor == action.requested_by
        approver = actor == incident.commander or approvers.includes(actor)
        return _No("self_approval" if own_high and approver else "not_authorized", exc.rule)
    return None


async def decide_action(deps: Deps, *, action_id: str, approve: bool, actor: str) -> Outcome:
    """Approve (the execution is queued at once) or reject an action. ActionRefused, after recording the
    attempt in the log, when a rule says no; a click on a decided card changes nothing."""
    now = deps.clock.now()
    action_id = action_id.strip().lower()
    async with deps.store.read() as uow:
        found = await uow.actions.get(action_id)
    if found is None:
        raise ActionNotFound(f"no remediation action `{action_id[:40]}` here (the card may be from elsewhere)")
    refused: _No | None = None
    approvers = await deps.authority.current(now)  # user groups' members, looked up outside the transaction
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(found.incident_id, lock=True)  # the incident first: one lock order
        action = await uow.actions.get(action_id, lock=True)
        assert incident is not None and action is not None  # neither is ever deleted while the incident exists
        events = []
        if action.status is ActionStatus.PROPOSED and now >= action.expires_at:
            events += action.expire(at=now)  # its timer had not fired yet: the click is what finds it expired
            await uow.actions.save(action)
            await uow.cancel_timer(expiry_key(action.id))
        refused = _why_not(incident, action, approvers, approve=approve, actor=actor)
        if refused is not None:
            events.append(refused_event(action, actor=actor, at=now, rule=refused.rule, reason=refused.message))
            await uow.save(incident, events)
        else:
            events += action.approve(actor=actor, at=now) if approve else action.reject(actor=actor, at=now)
            if not await uow.actions.save(action):  # moved by another unit of work despite the lock: never twice
                raise ActionRefused("this action was decided by someone else at the same moment", rule="race")
            await uow.cancel_timer(expiry_key(action.id))
            if approve:
                await uow.schedule_timer(kind=RUN, key=run_key(action.id), due_at=now, incident_id=incident.id,
                                         payload={"action": action.id})  # fmt: skip
            await uow.save(incident, events)
    if refused is not None:
        raise ActionRefused(f"refused: {refused.message}. Nothing was run.", rule=refused.rule)
    verb = "approved: it runs now" if approve else "rejected: it will not run"
    return Outcome(incident, True, f"{action.title} ({action.id}) {verb}")


async def expire_action(deps: Deps, *, action_id: str) -> bool:
    """The approval's time is up: a still-waiting action expires (its card updates); False when it was
    decided in time."""
    now = deps.clock.now()
    async with deps.store.read() as uow:
        found = await uow.actions.get(action_id)
    if found is None:
        return False
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(found.incident_id, lock=True, roles=False)
        action = await uow.actions.get(action_id, lock=True)
        if incident is None or action is None or action.status is not ActionStatus.PROPOSED:
            return False
        events = action.expire(at=now)
        await uow.actions.save(action)
        await uow.save(incident, events)
        return True


async def run_released(deps: Deps, *, incident_id: int) -> list[str]:
    """Human control was released: every action still waiting that the policy now lets run by itself is
    approved by policy and queued; their ids."""
    now = deps.clock.now()
    queued: list[str] = []
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if incident is None or not incident.is_open or incident.human_control:
            return []
        events = []
        for action in await uow.actions.of_incident(incident_id):
            if action.status is not ActionStatus.PROPOSED or now >= action.expires_at:
                continue
            policy = deps.remediation.policy
            decision = policy.decide(incident.severity, action.risk, human_control=False,
                                     has_rollback=action.rollback is not None)  # fmt: skip
            if decision is not Decision.AUTO:
                continue
            action.decision = decision
            events += action.approve(actor=WARROOM, at=now, auto=True)
            await uow.actions.save(action)
            await uow.cancel_timer(expiry_key(action.id))
            await uow.schedule_timer(kind=RUN, key=run_key(action.id), due_at=now, incident_id=incident_id,
                                     payload={"action": action.id})  # fmt: skip
            queued.append(action.id)
        if events:
            await uow.save(incident, events)
    return queued


async def actions_of(deps: Deps, *, incident_id: int) -> list[RemediationAction]:
    """Every action of an incident, oldest first."""
    async with deps.store.read() as uow:
        return await uow.actions.of_incident(incident_id)
