"""Follow-up action items' due dates: a reminder in the incident's war room, mentioning the owner, when one
falls due (after the incident is resolved too: action items come after it). The post-mortem, which holds the
action items, schedules them here."""

from __future__ import annotations

from datetime import datetime

from bot.domain.incident import Incident
from bot.domain.sla import Reminder, reminder_event
from bot.domain.text import USER_ID
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound
from bot.services.escalation import DueTimer
from bot.services.uow import UnitOfWork

ACTION_ITEM = "remind-action-item"
TEXT_MAX = 500


def _key(ref: str, item_id: str) -> str:
    return f"{ACTION_ITEM}:{ref.upper()}:{item_id}"


async def schedule_action_item(
    deps: Deps, *, ref: str, item_id: str, text: str, owner: str | None, due_at: datetime
) -> bool:
    """Remind the owner (the room when there is none) of an action item when it falls due; once per item id
    (False: it was scheduled before)."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get(ref, roles=False)
        if inc is None:
            raise IncidentNotFound(f"no incident {ref.upper()}")
        return await schedule_in(uow, inc, item_id=item_id, text=text, owner=owner, due_at=due_at)


async def schedule_in(
    uow: UnitOfWork, inc: Incident, *, item_id: str, text: str, owner: str | None, due_at: datetime
) -> bool:
    """`schedule_action_item` within a unit of work the caller holds (with the item's own log entry)."""
    if not item_id or len(item_id) > 80:
        raise BadRequest("an action item needs an id of 1 to 80 characters")
    if owner is not None and not USER_ID.match(owner):
        raise BadRequest(f"{owner!r} is not a user id")
    payload = {"item": item_id, "text": text.strip()[:TEXT_MAX], "owner": owner}
    return await uow.schedule_timer(
        kind=ACTION_ITEM, key=_key(inc.ref, item_id), due_at=due_at, incident_id=inc.id, payload=payload
    )


async def cancel_action_item(deps: Deps, *, ref: str, item_id: str) -> bool:
    """The item is done before its due date: no reminder (False: none was pending)."""
    async with deps.store.transaction() as uow:
        return await uow.cancel_timer(_key(ref, item_id))


async def action_item_due_fired(deps: Deps, timer: DueTimer) -> None:
    """An action item fell due: one reminder in the war room."""
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get_by_id(timer.incident_id or 0, lock=True, roles=False)
        if inc is None:
            return
        p = timer.payload
        owner = str(p.get("owner") or "")
        text = f"action item due: {p.get('text') or p.get('item')}"
        event = reminder_event(
            Reminder.ACTION_ITEM, text, at=deps.clock.now(), key=f"remind:{timer.key}",
            mention=[owner] if USER_ID.match(owner) else [], item=str(p.get("item") or ""),
        )  # fmt: skip
        await uow.save(inc, [event])
