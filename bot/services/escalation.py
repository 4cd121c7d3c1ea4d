"""Escalation use cases: escalate an incident one tier (by hand, on a failed remediation, on a raised severity,
on a missed ack SLA), the ladder's next tier when its time comes, `/incident page`, and who is on call.

Every escalation is one `incident.escalated` log entry saved with the incident: the war room mentions and
invites its audience and the pager reactor pages its PagerDuty services, each once, through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.domain.escalation import Audience, Escalation, EscalationState, Trigger, escalated_event, paged_event
from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident
from bot.domain.oncall import Shift
from bot.domain.response import UnknownTarget
from bot.domain.text import Mention, Text
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound, IncidentNotOpen
from bot.services.incidents import Outcome
from bot.services.uow import UnitOfWork

TIER_TIMER = "escalation-tier"
WARROOM = "warroom"


class DueTimer(Protocol):
    """A timer as the scheduler hands it over."""

    @property
    def key(self) -> str:
        """Its unique key."""
        ...

    @property
    def incident_id(self) -> int | None:
        """The incident it is about."""
        ...

    @property
    def due_at(self) -> datetime:
        """When it was due."""
        ...

    @property
    def payload(self) -> dict[str, Any]:
        """What was stored with it."""
        ...


async def escalation_state(uow: UnitOfWork, incident_id: int) -> EscalationState:
    """Where the incident's escalation stands, read from its log."""
    return EscalationState.of(await uow.incidents.timeline(incident_id, kinds={EventKind.ESCALATED.value}))


def tier_key(ref: str, level: int) -> str:
    """The timer of the ladder reaching tier `level` by itself."""
    return f"{TIER_TIMER}:{ref}:{level}"


async def escalate_locked(
    deps: Deps, uow: UnitOfWork, incident: Incident, *, trigger: Trigger, reason: str, actor: str,
    key: str | None = None,
) -> list[Event]:  # fmt: skip
    """Escalate one tier within a unit of work that holds the incident locked; the entries stored (none when
    `key` was recorded before). While the incident is unacknowledged, the next tier's timer is set."""
    policy = deps.response.escalation
    now = deps.clock.now()
    level = (await escalation_state(uow, incident.id)).next_level(policy)
    tier = policy.tiers[level]
    try:
        audience = deps.response.audience(tier.notify, now, pagerduty=tier.pagerduty)
    except UnknownTarget:  # the rules file is checked at start; a team cannot vanish in between
        audience = Audience(pagerduty=tier.pagerduty)
    esc = Escalation(level, tier, trigger, reason, audience, policy.label(level))
    stored = await uow.save(incident, [escalated_event(incident, esc, actor=actor, at=now, key=key)])
    if stored and incident.acknowledged_at is None and level < policy.top:
        nxt = level + 1
        await uow.schedule_timer(
            kind=TIER_TIMER, key=tier_key(incident.ref, nxt), due_at=now + policy.wait_before(nxt),
            incident_id=incident.id, payload={"level": nxt},
        )  # fmt: skip
    return stored


async def _locked(uow: UnitOfWork, ref: str) -> Incident:
    incident = await uow.incidents.get(ref, lock=True)
    if incident is None:
        raise IncidentNotFound(f"no incident {ref.upper()}")
    if not incident.is_open:
        raise IncidentNotOpen(f"{incident.ref} is {incident.status.value}: there is nothing to escalate or page")
    return incident


def _reached(ref: str, verb: str, payload: dict[str, Any]) -> Text:
    ids = [*payload.get("users", []), *payload.get("groups", [])]
    who = Text.join(" ", [Mention(str(i)) for i in ids]) if ids else Text.of("nobody in Slack")
    services = payload.get("pagerduty") or []
    paged = f"; PagerDuty: {', '.join(map(str, services))}" if services else ""
    return Text.of(f"{ref} {verb}: notified ", who, paged)


async def escalate(
    deps: Deps, incident: Incident | str, reason: str, *, trigger: Trigger = Trigger.REMEDIATION_FAILED,
    actor: str = WARROOM, key: str | None = None,
) -> Outcome:  # fmt: skip
    """Escalate an open incident one tier now (the top tier is notified again), e.g. when a remediation failed:
    `escalate(deps, incident, "rollback of checkout failed")`. `key` makes it once-only (a retried request)."""
    ref = incident if isinstance(incident, str) else incident.ref
    async with deps.store.transaction() as uow:
        inc = await _locked(uow, ref)
        stored = await escalate_locked(deps, uow, inc, trigger=Trigger(trigger), reason=reason, actor=actor, key=key)
        if not stored:
            return Outcome(inc, False, f"{inc.ref} was already escalated for this request")
        payload = stored[0].payload
        return Outcome(inc, True, _reached(inc.ref, f"escalated to {payload['label']}", payload))


async def tier_due(deps: Deps, timer: DueTimer) -> None:
    """The ladder's next tier, its time come: escalate if the incident is still open, unacknowledged and at
    the tier before (a trigger in between set a timer of its own)."""
    level = int(timer.payload.get("level", 0))
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True, roles=False)
        if inc is None or not inc.is_open or inc.acknowledged_at is not None:
            return
        if (await escalation_state(uow, inc.id)).level != level - 1:
            return
        policy = deps.response.escalation
        minutes = int(policy.wait_before(level).total_seconds() // 60)
        reason = f"still not acknowledged {minutes} min after {policy.label(level - 1)}"
        await escalate_locked(
            deps, uow, inc, trigger=Trigger.LADDER, reason=reason, actor=WARROOM, key=f"escalate:{inc.ref}:{level}"
        )


async def page(
    deps: Deps, *, ref: str, targets: list[str], message: str, actor: str, request_key: str | None = None
) -> Outcome:
    """`/incident page <@user|team> [message]`: mention and invite them in the war room, and page the on-call
    PagerDuty service (`oncall`) or a team's own service."""
    if not targets:
        raise BadRequest("who should be paged? e.g. `/incident page @alice the database is down` or `page payments`")
    now = deps.clock.now()
    try:
        audience = deps.response.audience(targets, now, pagerduty=deps.response.page_services(targets))
    except UnknownTarget as exc:
        raise BadRequest(str(exc)) from None
    if not audience:
        raise BadRequest("nobody is on call right now: add users or rotations under `oncall` in warroom.yml")
    key = f"page:{request_key}" if request_key else None
    async with deps.store.transaction() as uow:
        inc = await _locked(uow, ref)
        event = paged_event(inc, audience, message, targets=targets, actor=actor, at=now, key=key)
        stored = await uow.save(inc, [event])
        if not stored:
            return Outcome(inc, False, f"{inc.ref}: already paged for this request")
        return Outcome(inc, True, _reached(inc.ref, "paged", stored[0].payload))


@dataclass(frozen=True, slots=True)
class OnCallNow:
    """Who is on call at a moment: everyone, the group, and each rotation's shift."""

    at: datetime
    users: tuple[str, ...]
    group: str | None
    shifts: list[Shift]


def on_call(deps: Deps) -> OnCallNow:
    """Who is on call now (invited to every war room, notified by the `oncall` target)."""
    now = deps.clock.now()
    oncall = deps.response.oncall
    return OnCallNow(now, oncall.now(now), oncall.group, oncall.shifts(now))
