"""Wiring of remediation: the timers of its durable jobs (run an approved action, verify it, expire an approval)
and its reactor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.config import AppConfig
from bot.db.store import ClaimedTimer
from bot.scheduler import Scheduler
from bot.services import remediation, remediation_run
from bot.services.deps import Deps
from bot.services.remediation_deps import RemediationDeps

Job = Callable[..., Awaitable[object]]
TIMERS: dict[str, Job] = {
    remediation.RUN: remediation_run.run_action,
    remediation.VERIFY: remediation_run.verify_action,
    remediation.EXPIRY: remediation.expire_action,
}
"""Timer kind -> the job it runs (each takes the action id of the timer's payload)."""


def register_remediation_timers(scheduler: Scheduler, deps: Deps) -> None:
    """Register the remediation jobs with the scheduler."""
    for kind, job in TIMERS.items():

        async def run(timer: ClaimedTimer, job: Job = job) -> None:
            await job(deps, action_id=str(timer.payload.get("action") or ""))

        scheduler.register(kind, run)


def remediation_deps(config: AppConfig) -> RemediationDeps:
    """The remediation policy and executor timeout from the rules file (the executors themselves are built with
    the container's, bot.bootstrap.executors; the approvers are `Deps.authority`)."""
    r = config.remediation
    return RemediationDeps(policy=r.remediation_policy(), exec_timeout=r.executors.timeout_seconds)
