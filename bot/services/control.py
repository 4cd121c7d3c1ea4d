"""Human control and the deploy freeze: `/incident release`, `/incident freeze`, `/incident unfreeze`, and the
freeze as CI/CD pipelines ask for it (`GET /api/v1/freeze`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import control
from bot.domain.authority import Refused, check_release
from bot.domain.events import NewEvent
from bot.domain.incident import Incident
from bot.services.deps import Deps
from bot.services.errors import NotAllowed
from bot.services.incidents import Outcome, change_incident, check_major_change


@dataclass(frozen=True, slots=True)
class FreezeStatus:
    """Whether deploys are frozen, by which open incidents, and since when (the longest-standing freeze)."""

    frozen: bool
    incidents: list[str]
    since: datetime | None


async def release(deps: Deps, *, ref: str, actor: str) -> Outcome:
    """End human control (the commander or an approver): the remediation policy applies again."""
    now = deps.clock.now()
    approvers = await deps.authority.current(now)

    def change(i: Incident) -> list[NewEvent]:
        if i.is_open and i.human_control:
            try:
                check_release(actor=actor, commander=i.commander, approvers=approvers)
            except Refused as exc:
                raise NotAllowed(exc.rule) from None
        return control.release(i, actor=actor, at=now)

    return await change_incident(
        deps,
        ref,
        change,
        lambda i: f"{i.ref} is no longer under human control: the remediation policy applies again",
        lambda i: f"{i.ref} is not under human control",
    )


async def freeze(deps: Deps, *, ref: str, actor: str, reason: str = "") -> Outcome:
    """Freeze deploys for this incident (anyone in the room), until unfrozen or resolved."""
    now = deps.clock.now()
    return await change_incident(
        deps,
        ref,
        lambda i: control.freeze(i, actor=actor, at=now, reason=reason),
        lambda i: f"deploys are frozen for {i.ref}",
        lambda i: f"deploys are already frozen for {i.ref}",
    )


async def unfreeze(deps: Deps, *, ref: str, actor: str, reason: str = "") -> Outcome:
    """Lift this incident's deploy freeze; for a SEV0/SEV1, the commander or an approver (by default)."""
    now = deps.clock.now()
    approvers = await deps.authority.current(now)

    def change(i: Incident) -> list[NewEvent]:
        if i.is_open and i.frozen_since is not None:
            check_major_change(deps, i, actor=actor, approvers=approvers, what="lift the deploy freeze of")
        return control.unfreeze(i, actor=actor, at=now, reason=reason)

    return await change_incident(
        deps,
        ref,
        change,
        lambda i: f"{i.ref} no longer freezes deploys",
        lambda i: f"{i.ref} does not freeze deploys",
    )


async def freeze_status(deps: Deps) -> FreezeStatus:
    """The deploy freeze now: frozen while any open incident freezes deploys."""
    async with deps.store.read() as uow:
        frozen = await uow.incidents.frozen()
    since = min((i.frozen_since for i in frozen if i.frozen_since is not None), default=None)
    return FreezeStatus(bool(frozen), [i.ref for i in frozen], since)
