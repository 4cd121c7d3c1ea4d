"""A scripted set of incidents, alerts, SLA breaches and action items around the report day 2026-11-23 (digest at
23:00 UTC: the day runs from 2026-11-22 23:00 to 2026-11-23 23:00 UTC), with every figure the digest prints
computed by hand in EXPECTED. Used on SQLite (tests/unit) and PostgreSQL (tests/integration).

Report day 2026-11-23:
  A SEV2 declared 09:00, acked 09:06 (6 min), resolved 10:00 (60 min), action item due 11-22 12:00 (overdue)
  B SEV1 declared 12:00, acked 12:02 (2 min), resolved 12:30 (30 min), action item due 11-24 (not yet due)
  C SEV3 declared 20:00, acked 20:10 (10 min), commander U0CAROL, open at the end (age 3h 00m)
  D SEV2 declared 11-22 22:00 (the day before), acked 22:30 (the day before), resolved 01:00 (180 min)
  breaches: ack at 12:10, resolve at 15:00
The day before (11-21 23:00 to 11-22 23:00):
  D declared (acked 30 min); E SEV3 declared 11-22 08:00, acked 08:20 (20 min), resolved 09:00 (60 min)
  breach: ack at 22:20
The week before the day (11-16 .. 11-22), besides the day before:
  F SEV4 declared 11-18 10:00, acked 10:04 (4 min), resolved 11:00 (60 min)
  H SEV1 declared 11-20 10:00, never acked, still open (age 3d 13h), no commander; breach: ack at 11-20 10:30
Outside: Z SEV2 declared 11-01 (out of the 14 days), resolved 11-01; G SEV3 declared at 23:00 sharp (the next day).

Day 2026-11-23:   opened 3 (SEV1 1 · SEV2 1 · SEV3 1), resolved 3 (SEV1 1 · SEV2 2), MTTA 18/3 = 6m, MTTR 270/3 = 90m
Day before:       opened 2, resolved 1, MTTA (30+20)/2 = 25m, MTTR 60m, breaches 1
Week (7 days):    opened 4 (avg 0.571), resolved 2 (avg 0.286), MTTA (30+20+4)/3 = 18m, MTTR (60+60)/2 = 60m,
                  breaches 2 (avg 0.286)
Alerts of the day: CPUHigh x5 (firing) and x3 (resolved 11:00), DiskFull x4 (silenced), LowPrio x1 (review queue);
                  Old x9 resolved 11-20 (not counted) -> received 13, distinct 4, duplicates 9, silenced 1
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.clock import ManualClock
from bot.db.tables import AlertRow
from bot.domain.incident import Role, Severity
from bot.domain.sla import Sla, breach_event
from bot.services import action_items, incidents
from bot.services.deps import Deps

DAY = date(2026, 11, 23)
START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
END = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    """`11-23 09:00` in UTC, 2026."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


# (when, what, incident letter, argument)
SCRIPT: list[tuple[str, str, str, Any]] = [
    ("11-01 10:00", "declare", "Z", Severity.SEV2),
    ("11-01 11:00", "resolve", "Z", None),
    ("11-18 10:00", "declare", "F", Severity.SEV4),
    ("11-18 10:04", "ack", "F", None),
    ("11-18 11:00", "resolve", "F", None),
    ("11-20 10:00", "declare", "H", Severity.SEV1),
    ("11-20 10:30", "breach", "H", Sla.ACK),
    ("11-22 08:00", "declare", "E", Severity.SEV3),
    ("11-22 08:20", "ack", "E", None),
    ("11-22 09:00", "resolve", "E", None),
    ("11-22 22:00", "declare", "D", Severity.SEV2),
    ("11-22 22:20", "breach", "D", Sla.ACK),
    ("11-22 22:30", "ack", "D", None),
    ("11-23 01:00", "resolve", "D", None),
    ("11-23 09:00", "declare", "A", Severity.SEV2),
    ("11-23 09:06", "ack", "A", None),
    ("11-23 10:00", "resolve", "A", None),
    ("11-23 12:00", "declare", "B", Severity.SEV1),
    ("11-23 12:02", "ack", "B", None),
    ("11-23 12:03", "commander", "B", "U0BOB"),  # only the commander may resolve a SEV1
    ("11-23 12:10", "breach", "B", Sla.ACK),
    ("11-23 12:30", "resolve", "B", None),
    ("11-23 15:00", "breach", "B", Sla.RESOLVE),
    ("11-23 20:00", "declare", "C", Severity.SEV3),
    ("11-23 20:10", "ack", "C", None),
    ("11-23 20:11", "commander", "C", "U0CAROL"),
    ("11-23 23:00", "declare", "G", Severity.SEV3),
]

EXPECTED_FIGURES = {
    "Opened": ("3 (SEV1 1 · SEV2 1 · SEV3 1)", "+1 vs previous day, +2.4 vs 7-day avg 0.6"),
    "Resolved": ("3 (SEV1 1 · SEV2 2)", "+2 vs previous day, +2.7 vs 7-day avg 0.3"),
    "MTTA": ("6m 00s", "-19m 00s vs previous day, -12m 00s vs 7-day avg 18m 00s"),
    "MTTR": ("1h 30m", "+30m 00s vs previous day, +30m 00s vs 7-day avg 1h 00m"),
    "SLA breaches": ("2 (ack 1 · resolve 1)", "+1 vs previous day, +1.7 vs 7-day avg 0.3"),
}


async def _move(clock: ManualClock, when: datetime) -> None:
    clock.advance(seconds=(when - clock.now()).total_seconds())


async def play(deps: Deps, clock: ManualClock) -> dict[str, str]:
    """Run the script (the clock must start before its first line); the refs by letter."""
    refs: dict[str, str] = {}
    for when, what, letter, arg in SCRIPT:
        await _move(clock, at(when))
        if what == "declare":
            out = await incidents.declare(deps, title=f"incident {letter} <!channel>", severity=arg, actor="U0ALICE")
            refs[letter] = out.incident.ref
        elif what == "ack":
            await incidents.acknowledge(deps, ref=refs[letter], actor="U0BOB")
        elif what == "resolve":
            await incidents.resolve(deps, ref=refs[letter], actor="U0BOB")
        elif what == "commander":
            await incidents.assign_role(deps, ref=refs[letter], role=Role.COMMANDER, user_id=arg, actor=arg)
        elif what == "breach":
            await _breach(deps, refs[letter], arg, clock.now())
    await _action_items(deps, refs)
    await _alerts(deps)
    return refs


async def _breach(deps: Deps, ref: str, sla: Sla, now: datetime) -> None:
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get(ref, lock=True)
        assert inc is not None
        event = breach_event(inc, sla, due=now, minutes=5, at=now, key=f"breach:{ref}:{sla.value}")
        await uow.save(inc, [event])


async def _action_items(deps: Deps, refs: dict[str, str]) -> None:
    add = action_items.schedule_action_item
    await add(deps, ref=refs["A"], item_id="ai-1", text="add a <@U0X> canary", owner="U0DAVE", due_at=at("11-22 12:00"))
    await add(deps, ref=refs["B"], item_id="ai-2", text="later", owner=None, due_at=at("11-24 12:00"))
    await add(deps, ref=refs["A"], item_id="ai-3", text="done early", owner=None, due_at=at("11-21 12:00"))
    await action_items.cancel_action_item(deps, ref=refs["A"], item_id="ai-3")


def _alert(name: str, n: int, count: int, last: datetime, *, resolved: bool = False, **extra: Any) -> dict[str, Any]:
    """A firing alert holds its active key; a resolved one was last seen when it resolved."""
    first = last - timedelta(hours=1)
    state = {"active_key": None, "status": "resolved", "resolved_at": last} if resolved else {
        "active_key": f"am:{name}-{n}", "status": "firing"}  # fmt: skip
    return {
        **state, "source": "alertmanager", "fingerprint": f"{name}-{n}",
        "alertname": name, "labels": {"alertname": name}, "annotations": {}, "group_key": f"svc/{name}",
        "severity": "SEV3", "count": count, "first_seen_at": first, "last_seen_at": last, **extra,
    }  # fmt: skip


async def _alerts(deps: Deps) -> None:
    rows = [
        _alert("CPUHigh", 1, 5, at("11-23 10:00")),
        _alert("CPUHigh", 2, 3, at("11-23 11:00"), resolved=True),
        _alert("DiskFull", 1, 4, at("11-23 12:00"), silenced_by="s-1"),
        _alert("LowPrio", 1, 1, at("11-23 13:00"), review=True, severity="SEV4"),
        _alert("Old", 1, 9, at("11-20 13:00"), resolved=True),
    ]
    async with deps.store.transaction() as uow:
        await uow.session.execute(insert(AlertRow), rows)  # type: ignore[attr-defined]
