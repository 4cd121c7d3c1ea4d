"""SLA clocks: the timers that watch an open incident (ack by, resolve by, status-update cadence, no commander
yet, left open too long), what each does when it fires, and the auto-upgrade rules.

Clocks are set when the incident is declared (by the `sla-clocks` reactor, from its log) and set again when
its severity changes; acknowledging stops the ack clock and the escalation ladder, resolving stops them all.
Every handler looks at the incident as it is when the timer fires (under its lock), so a timer that fires
late, twice (a crash between the work and its record) or after a change does nothing wrong: breaches and
nudges carry deduplication keys, and a deadline that moved is set again for its new time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.escalation import Trigger
from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident, Severity
from bot.domain.sla import (
    Reminder,
    Sla,
    UpgradeWhen,
    ack_due,
    breach_event,
    marker,
    reminder_event,
    resolve_due,
    update_clock,
    upgrade,
)
from bot.services.deps import Deps
from bot.services.escalation import TIER_TIMER, DueTimer, escalate_locked, escalation_state
from bot.services.uow import UnitOfWork

ACK = "sla-ack"
RESOLVE = "sla-resolve"
UPDATE = "sla-update"
COMMANDER = "remind-commander"
RESOLUTION = "remind-resolution"
ALL = (ACK, RESOLVE, UPDATE, COMMANDER, RESOLUTION, TIER_TIMER)
"""Every clock of an open incident (resolving cancels them; action-item reminders outlive it)."""
WARROOM = "warroom"


def epoch(at: datetime) -> int:
    """Seconds since the epoch: part of timer and breach keys."""
    return int(at.timestamp())


async def _set(uow: UnitOfWork, kind: str, inc: Incident, due: datetime) -> None:
    await uow.schedule_timer(kind=kind, key=f"{kind}:{inc.ref}:{epoch(due)}", due_at=due, incident_id=inc.id)


async def last_update(uow: UnitOfWork, inc: Incident) -> datetime:
    """When the last status update was posted (the declaration when none was)."""
    updates = await uow.incidents.timeline(inc.id, kinds={EventKind.STATUS_UPDATE.value})
    return max([inc.declared_at, *(e.at for e in updates)])


async def set_clocks(deps: Deps, incident_id: int) -> None:
    """Set every clock of an open incident at its current deadlines (a clock already set is kept)."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if inc is None or not inc.is_open:
            return
        now = deps.clock.now()
        targets = deps.sla[inc.severity]
        if inc.acknowledged_at is None:
            await _set(uow, ACK, inc, ack_due(inc, targets))
        if inc.resolved_at is None:
            await _set(uow, RESOLVE, inc, resolve_due(inc, targets))
        if targets.update_minutes is not None:
            await _set(
                uow, UPDATE, inc, update_clock(await last_update(uow, inc), targets.update_minutes, now).next_due
            )
        r = deps.response.reminders
        if r.commander_after_minutes:
            await _set(uow, COMMANDER, inc, inc.declared_at + timedelta(minutes=r.commander_after_minutes))
        if r.resolution_after_hours:
            await _set(uow, RESOLUTION, inc, inc.declared_at + timedelta(hours=r.resolution_after_hours))


async def check_detection(deps: Deps, incident_id: int) -> None:
    """An incident declared from alerts: was it declared within the detect SLA of its first alert's start?"""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if inc is None:
            return
        minutes = deps.sla[inc.severity].detect_minutes
        started = await uow.alerts.first_started(inc.id)
        if minutes is None or started is None or inc.declared_at - started <= timedelta(minutes=minutes):
            return
        due = started + timedelta(minutes=minutes)
        key = f"sla:detect:{inc.ref}"
        await uow.save(inc, [breach_event(inc, Sla.DETECT, due=due, minutes=minutes, at=deps.clock.now(), key=key)])


async def stop_clocks(deps: Deps, incident_id: int, kinds: tuple[str, ...] = ALL) -> int:
    """Cancel an incident's pending clocks of these kinds (acknowledged: ack and ladder; resolved: all)."""
    async with deps.store.transaction() as uow:
        return await uow.cancel_timers(incident_id=incident_id, kinds=kinds)


async def severity_changed(deps: Deps, event: Event) -> None:
    """A raised severity escalates one tier; either way the deadlines move to the new severity's."""
    try:
        old, new = Severity(str(event.payload.get("old"))), Severity(str(event.payload.get("new")))
    except ValueError:
        old = new = Severity.SEV4
    if new.rank < old.rank:
        async with deps.store.transaction() as uow:
            inc = await uow.incidents.get_by_id(event.incident_id or 0, lock=True, roles=False)
            if inc is not None and inc.is_open:
                reason = f"severity raised {old.value} → {new.value}"
                await escalate_locked(
                    deps, uow, inc, trigger=Trigger.SEVERITY_RAISED, reason=reason, actor=WARROOM,
                    key=f"escalate:severity:{event.id}",
                )  # fmt: skip
    await set_clocks(deps, event.incident_id or 0)


async def _applied(uow: UnitOfWork, deps: Deps, inc: Incident) -> set[str]:
    """The auto-upgrade rules that raised this incident before (each does once)."""
    changes = await uow.incidents.timeline(inc.id, kinds={EventKind.SEVERITY_CHANGED.value})
    reasons = [str(e.payload.get("reason") or "") for e in changes]
    return {r.name for r in deps.response.upgrades if any(x.startswith(marker(r.name)) for x in reasons)}


async def _upgrade(deps: Deps, uow: UnitOfWork, inc: Incident, when: UpgradeWhen) -> bool:
    """Apply the first matching auto-upgrade rule of `when`; whether the severity was raised."""
    found = upgrade(deps.response.upgrades, inc, deps.sla[inc.severity], when, await _applied(uow, deps, inc))
    if found is None:
        return False
    severity, reason = found
    events = inc.raise_severity(severity, reason=reason, confirmed=True, actor=WARROOM, at=deps.clock.now())
    return bool(await uow.save(inc, events))


async def services_changed(deps: Deps, incident_id: int) -> None:
    """Alerts joined: the `services` auto-upgrade rules look at how many services are affected now."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if inc is not None and inc.is_open:
            await _upgrade(deps, uow, inc, UpgradeWhen.SERVICES)


async def ack_due_fired(deps: Deps, timer: DueTimer) -> None:
    """The ack deadline: a breach, the `unacknowledged` auto-upgrade rules, and the start of the escalation
    (a raised severity escalates through its own change)."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True, roles=False)
        if inc is None or not inc.is_open or inc.acknowledged_at is not None:
            return
        now, targets = deps.clock.now(), deps.sla[inc.severity]
        due = ack_due(inc, targets)
        if due > now:  # the severity was lowered: a later deadline
            await _set(uow, ACK, inc, due)
            return
        breach = breach_event(inc, Sla.ACK, due=due, minutes=targets.ack_minutes, at=now, key=f"sla:ack:{inc.ref}")
        if not await uow.save(inc, [breach]) or await _upgrade(deps, uow, inc, UpgradeWhen.UNACKNOWLEDGED):
            return
        if (await escalation_state(uow, inc.id)).level < 0:
            reason = f"not acknowledged within {targets.ack_minutes} min (the ack SLA of {inc.severity.value})"
            await escalate_locked(
                deps, uow, inc, trigger=Trigger.ACK_SLA, reason=reason, actor=WARROOM, key=f"escalate:{inc.ref}:ack"
            )


async def resolve_due_fired(deps: Deps, timer: DueTimer) -> None:
    """The resolve deadline: a breach, mentioning the commander."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True)
        if inc is None or not inc.is_open:
            return
        now, targets = deps.clock.now(), deps.sla[inc.severity]
        due = resolve_due(inc, targets)
        if due > now:
            await _set(uow, RESOLVE, inc, due)
            return
        mention = [inc.commander] if inc.commander else []
        key = f"sla:resolve:{inc.ref}"
        await uow.save(
            inc,
            [
                breach_event(
                    inc, Sla.RESOLVE, due=due, minutes=targets.resolve_minutes, at=now, key=key, mention=mention
                )
            ],
        )


async def update_due_fired(deps: Deps, timer: DueTimer) -> None:
    """The status-update cadence: a missed deadline is a breach that nudges the commander (the room when there
    is none); the next deadline is set either way."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True)
        if inc is None or not inc.is_open:
            return
        cadence = deps.sla[inc.severity].update_minutes
        if cadence is None:
            return
        clock = update_clock(await last_update(uow, inc), cadence, deps.clock.now())
        if clock.missed is not None:
            key = f"sla:update:{inc.ref}:{epoch(clock.missed)}"
            mention = [inc.commander] if inc.commander else []
            breach = breach_event(
                inc, Sla.UPDATE, due=clock.missed, minutes=cadence, at=deps.clock.now(), key=key, mention=mention
            )
            await uow.save(inc, [breach])
        await _set(uow, UPDATE, inc, clock.next_due)


def _next(due: datetime, now: datetime, every: timedelta) -> datetime:
    """The next nudge after one due at `due` (after a long outage: one period from now, not a burst)."""
    nxt = due + every
    return nxt if nxt > now else now + every


async def commander_due_fired(deps: Deps, timer: DueTimer) -> None:
    """No commander yet: nudge the people on call, then again every `commander_every_minutes`."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True)
        if inc is None or not inc.is_open or inc.commander is not None:
            return
        now, r = deps.clock.now(), deps.response.reminders
        text = "no commander yet: take command with /incident lead (or the I'm commander button)"
        mention = deps.response.oncall.now(now)
        key = f"remind:commander:{inc.ref}:{epoch(timer.due_at)}"
        await uow.save(inc, [reminder_event(Reminder.COMMANDER, text, at=now, key=key, mention=mention)])
        if r.commander_every_minutes:
            await _set(uow, COMMANDER, inc, _next(timer.due_at, now, timedelta(minutes=r.commander_every_minutes)))


async def resolution_due_fired(deps: Deps, timer: DueTimer) -> None:
    """Open too long: remind the commander (the room when there is none) to resolve it or post an update, then
    again every `resolution_every_hours`."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True)
        if inc is None or not inc.is_open:
            return
        now, r = deps.clock.now(), deps.response.reminders
        hours = int((now - inc.declared_at).total_seconds() // 3600)
        text = f"open for {hours} h: resolve it with /incident resolve if it is over, or post a status update"
        mention = [inc.commander] if inc.commander else []
        key = f"remind:resolution:{inc.ref}:{epoch(timer.due_at)}"
        await uow.save(inc, [reminder_event(Reminder.RESOLUTION, text, at=now, key=key, mention=mention, hours=hours)])
        if r.resolution_every_hours:
            await _set(uow, RESOLUTION, inc, _next(timer.due_at, now, timedelta(hours=r.resolution_every_hours)))
