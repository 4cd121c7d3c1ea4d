"""Running an approved remediation action: the durable job behind the `remediation-run` timer, then the
verification (`remediation-verify`, after a wait for the metrics to show the change), the rollback of a failed
verification, and the escalation of anything that failed.

At most once: the action is recorded `running` (committed) before the executor is called, and a job that
finds it `running` (the process stopped mid-way, the timer fired again) does not call the executor again: it
records the outcome as unknown and escalates, so people look. For a change to production, not running a
command twice is the safe side; running it zero times after a crash is visible and recoverable. The same
holds for the rollback (`rolling_back` is recorded before it runs).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.domain.escalation import Trigger
from bot.domain.events import NewEvent
from bot.domain.execution import ExecRequest, ExecutionRefused, build_request
from bot.domain.metrics import reduce_values
from bot.domain.remediation import WARROOM, ActionStatus, RemediationAction, refused_event
from bot.domain.runbook import Condition, Query
from bot.services import escalation
from bot.services.deps import Deps
from bot.services.errors import ServiceError
from bot.services.remediation import VERIFY

log = logging.getLogger("warroom.remediation")
UNKNOWN = "the outcome is unknown: the bot stopped while it ran, and it is never run twice"


@dataclass(frozen=True, slots=True)
class Ran:
    """What came of one executor call."""

    ok: bool
    exit_code: int | None
    output: str
    reason: str = ""


def verify_key(action_id: str) -> str:
    """The timer that verifies an executed action."""
    return f"{VERIFY}:{action_id}"


async def _locked(deps: Deps, action_id: str) -> tuple[object, RemediationAction] | None:
    async with deps.store.read() as uow:
        return None if (a := await uow.actions.get(action_id)) is None else (a.incident_id, a)


async def _execute(deps: Deps, req: ExecRequest) -> Ran:
    """Call the executor; a refusal or an error is a failed run, never an exception."""
    r = deps.remediation
    assert r.executors is not None
    try:
        result = await r.executors.run(req)
    except ExecutionRefused as exc:
        return Ran(False, None, "", str(exc))
    except Exception as exc:  # an executor bug must not leave the action without an outcome
        log.exception("executor %s failed on %s", req.executor, req.action_id)
        return Ran(False, None, "", f"the executor failed: {type(exc).__name__}")
    output = deps.redact(result.output)[: r.output_max]
    return Ran(result.ok, result.exit_code, output, "" if result.ok else deps.redact(result.summary))


async def _escalate(deps: Deps, ref: str, reason: str, key: str) -> None:
    try:
        await escalation.escalate(deps, ref, reason, trigger=Trigger.REMEDIATION_FAILED, key=key)
    except ServiceError as exc:  # resolved meanwhile: nobody to escalate to
        log.info("no escalation for %s: %s", ref, exc)


async def _start(deps: Deps, action_id: str) -> tuple[str, RemediationAction, ExecRequest | None] | None:
    """Record the start (or why it cannot start) in one unit of work; the request to run, if any."""
    now = deps.clock.now()
    found = await _locked(deps, action_id)
    if found is None:
        return None
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(found[1].incident_id, lock=True, roles=False)
        action = await uow.actions.get(action_id, lock=True)
        if incident is None or action is None:
            return None
        events: list[NewEvent] = []
        req = None
        if action.status is ActionStatus.RUNNING:
            events += action.finished(ok=False, exit_code=None, output="", at=now, reason=UNKNOWN)
        elif action.status is not ActionStatus.APPROVED:
            return None  # ran already, or was never approved
        else:
            try:
                req = build_request(action_id=action.id, executor=action.executor, template=action.argv,
                                    values=action.values, timeout_seconds=deps.remediation.exec_timeout)  # fmt: skip
                events += action.start(at=now)
            except ExecutionRefused as exc:
                events.append(refused_event(action, actor=WARROOM, at=now, rule="unsafe_value", reason=str(exc)))
                events += action.finished(ok=False, exit_code=None, output="", at=now, reason=str(exc))
        await uow.actions.save(action)
        await uow.save(incident, events)
        return incident.ref, action, req


async def run_action(deps: Deps, *, action_id: str) -> ActionStatus | None:
    """The job of an approved action: record the start, run it, record the outcome, queue its verification
    (or escalate a failure). Its status after; None when there was nothing to do."""
    started = await _start(deps, action_id)
    if started is None:
        return None
    ref, action, req = started
    if req is None:  # refused, or found running after a stop: it failed without running now
        await _escalate(deps, ref, f"remediation {action.title} failed: {action.output or 'see its card'}",
                        key=f"remediation-failed:{action.id}")  # fmt: skip
        return action.status
    ran = await _execute(deps, req)
    now = deps.clock.now()
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(action.incident_id, lock=True, roles=False)
        current = await uow.actions.get(action_id, lock=True)
        if incident is None or current is None or current.status is not ActionStatus.RUNNING:
            return None
        events = current.finished(ok=ran.ok, exit_code=ran.exit_code, output=ran.output, at=now, reason=ran.reason)
        if ran.ok and current.verify is not None:
            due = now + deps.remediation.verify_after
            await uow.schedule_timer(kind=VERIFY, key=verify_key(current.id), due_at=due, incident_id=incident.id,
                                     payload={"action": current.id})  # fmt: skip
        await uow.actions.save(current)
        await uow.save(incident, events)
    if not ran.ok:
        await _escalate(deps, ref, f"remediation {current.title} failed: {ran.reason or 'non-zero exit'}",
                        key=f"remediation-failed:{current.id}")  # fmt: skip
    return current.status


async def _check(deps: Deps, verify: dict[str, object]) -> tuple[bool | None, float | None, str]:
    """Run the verification query now: passed (None: no answer), the observed number, a sentence."""
    metrics = deps.diagnosis.metrics
    query = Query.model_validate(verify["query"])
    expect = Condition.model_validate(verify["expect"])
    if metrics is None or not metrics.supports(query.kind):
        return None, None, "no metrics source answers the verification query"
    limit = deps.diagnosis.settings.query_timeout
    try:
        series = await asyncio.wait_for(metrics.query(query, at=deps.clock.now(), time_limit=limit), limit + 1)
    except Exception as exc:  # a failed query is no answer: nothing is rolled back on a guess
        return None, None, f"the query failed ({type(exc).__name__})"
    value = reduce_values([v for s in series if (v := s.last()) is not None], query.reduce)
    if value is None:
        return None, None, "the query returned no data"
    return expect.holds(value), value, f"observed {value:.4g}, expected {expect.describe()}"


async def verify_action(deps: Deps, *, action_id: str) -> ActionStatus | None:
    """The verification job of an executed action: run its query; a failed check rolls back and escalates.
    Its status after; None when there was nothing to do."""
    found = await _locked(deps, action_id)
    if found is None:
        return None
    action = found[1]
    if action.status is ActionStatus.ROLLING_BACK:  # stopped while rolling back: never again, tell people
        return await _rolled_back(deps, action_id, Ran(False, None, "", UNKNOWN))
    if action.status is not ActionStatus.EXECUTED or action.verified is not None or action.verify is None:
        return None
    passed, observed, detail = await _check(deps, action.verify)
    now = deps.clock.now()
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(action.incident_id, lock=True, roles=False)
        current = await uow.actions.get(action_id, lock=True)
        if incident is None or current is None or current.status is not ActionStatus.EXECUTED:
            return None
        events = current.checked(passed=passed, observed=observed, at=now, detail=detail)
        await uow.actions.save(current)
        await uow.save(incident, events)
    if passed is not False:
        return current.status
    ran = await _roll_back(deps, current)
    return await _rolled_back(deps, action_id, ran, because=detail)


async def _roll_back(deps: Deps, action: RemediationAction) -> Ran:
    """Run the action's rollback (recorded `rolling_back` already)."""
    if not action.rollback:
        return Ran(False, None, "", "the step has no rollback: undo it by hand")
    try:
        req = build_request(action_id=action.id, executor=action.executor, template=action.rollback,
                            values=action.values, timeout_seconds=deps.remediation.exec_timeout)  # fmt: skip
    except ExecutionRefused as exc:
        return Ran(False, None, "", str(exc))
    return await _execute(deps, req)


async def _rolled_back(deps: Deps, action_id: str, ran: Ran, because: str = "") -> ActionStatus | None:
    """Record the rollback's outcome, then escalate: a remediation that did not hold needs people."""
    now = deps.clock.now()
    async with deps.store.transaction() as uow:
        found = await uow.actions.get(action_id)
        incident = await uow.incidents.get_by_id(found.incident_id, lock=True, roles=False) if found else None
        action = await uow.actions.get(action_id, lock=True)
        if incident is None or action is None or action.status is not ActionStatus.ROLLING_BACK:
            return None
        events = action.rolled_back(ok=ran.ok, exit_code=ran.exit_code, output=ran.output, at=now, reason=ran.reason)
        await uow.actions.save(action)
        await uow.save(incident, events)
    what = "rolled back" if ran.ok else f"the rollback failed ({ran.reason or 'non-zero exit'})"
    reason = f"remediation {action.title} did not hold" + (f" ({because})" if because else "") + f": {what}"
    await _escalate(deps, incident.ref, reason, key=f"remediation-failed:{action.id}")
    return action.status
