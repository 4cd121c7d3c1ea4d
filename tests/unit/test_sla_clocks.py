"""SLA clocks and reminders with an injected clock: status-update nudges at each severity's cadence (none
after resolve, an update restarts the clock), "no commander yet", open too long, the resolve SLA, action
items, and breaches counted for /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.authority import Approvers
from bot.domain.events import EventKind
from bot.domain.incident import Severity
from bot.services import action_items, incidents, updates
from bot.services.authority_deps import AuthorityDeps
from tests.escalation_env import make_env

NO_OTHER_NUDGES = {"reminders": {"commander_after_minutes": 0, "resolution_after_hours": 0}}


@pytest.fixture
async def env(tmp_path):
    e = await make_env(tmp_path, NO_OTHER_NUDGES)
    yield e
    await e.close()


async def declare(env, severity=Severity.SEV2, title="Checkout errors", actor="U0ALICE"):
    out = await incidents.declare(env.deps, title=title, severity=severity, actor=actor)
    await env.settle()
    return out.incident.ref


async def breaches(env, ref, sla):
    """Minutes after START of each breach of `sla`."""
    return [
        round((e.at - env.t0).total_seconds() / 60)
        for e in await env.events(ref, EventKind.SLA_BREACHED)
        if e.payload["sla"] == sla
    ]


@pytest.mark.parametrize(
    ("severity", "cadence"), [(Severity.SEV0, 10), (Severity.SEV1, 15), (Severity.SEV2, 30), (Severity.SEV3, 120)]
)
async def test_update_nudges_come_at_the_severity_cadence_and_stop_at_resolve(env, severity, cadence):
    ref = await declare(env, severity)
    await incidents.take_lead(env.deps, ref=ref, actor="U0BOB")  # acknowledged: no escalation in the way
    await env.at(cadence - 1)
    assert await breaches(env, ref, "update") == []
    await env.at(3 * cadence)
    assert await breaches(env, ref, "update") == [cadence, 2 * cadence, 3 * cadence]
    nudges = [m for m in env.room_lines() if "no status update" in m]
    assert len(nudges) == 3 and all("<@U0BOB>" in m for m in nudges), "the commander is nudged"
    await incidents.resolve(env.deps, ref=ref, actor="U0BOB")
    await env.at(20 * cadence)
    assert await breaches(env, ref, "update") == [cadence, 2 * cadence, 3 * cadence], "none after resolve"
    assert not await env.timers(incident_id=1, status="pending"), "resolving cancelled every clock"


async def test_sev4_has_no_update_cadence(env):
    ref = await declare(env, Severity.SEV4)
    await env.at(3 * 24 * 60)
    assert await breaches(env, ref, "update") == []


async def test_a_status_update_restarts_the_cadence_and_goes_to_the_announcements_channel(env):
    ref = await declare(env, Severity.SEV1)
    await incidents.acknowledge(env.deps, ref=ref, actor="U0BOB")
    await env.at(10)
    await incidents.post_update(env.deps, ref=ref, actor="U0BOB", text="What happened: bad deploy. Next update 09:25")
    await env.at(24)
    assert await breaches(env, ref, "update") == [], "the clock restarted at 10: next deadline 25"
    await env.at(25)
    await env.at(40)
    assert await breaches(env, ref, "update") == [25, 40]
    nudges = [m for m in env.room_lines() if "no status update" in m]
    assert nudges and all("<@" not in m for m in nudges), "no commander: the room is nudged, nobody mentioned"
    announced = [m.text for m in env.chat.by_name("incidents").messages]
    assert any("status update" in t and "bad deploy" in t for t in announced)


async def test_update_template_is_the_severity_s_filled_with_the_incident(env):
    ref = await declare(env, Severity.SEV1, title="Payments <down>")
    text = await updates.template(env.deps, ref=ref)
    assert text.splitlines()[0] == f"[SEV1] {ref}: Payments <down>"
    assert "Customer impact:" in text and "Next update at: 09:15 UTC" in text


async def test_a_raised_severity_moves_the_deadlines(env):
    ref = await declare(env, Severity.SEV3)
    await env.at(5)
    await incidents.change_severity(env.deps, ref=ref, severity=Severity.SEV1, actor="U0ALICE")
    await env.settle()
    await env.at(15)
    assert await breaches(env, ref, "ack") == [15], "the SEV1 ack SLA, counted from the declaration"
    await env.at(16)
    assert await breaches(env, ref, "update") == [15]


async def test_a_lowered_severity_gives_more_time(env):
    env.deps.authority = AuthorityDeps(Approvers(users=frozenset({"U0ALICE"})))  # she may lower a SEV1
    ref = await declare(env, Severity.SEV1)
    await incidents.change_severity(env.deps, ref=ref, severity=Severity.SEV3, actor="U0ALICE")
    await env.at(200)
    assert await breaches(env, ref, "ack") == []
    await env.at(240)
    assert await breaches(env, ref, "ack") == [240]


async def test_resolve_sla_breach_mentions_the_commander_once(env):
    ref = await declare(env, Severity.SEV1)
    await incidents.take_lead(env.deps, ref=ref, actor="U0BOB")
    await env.at(480)
    await env.at(900)
    assert await breaches(env, ref, "resolve") == [480]
    assert any("resolve SLA breached" in m and "<@U0BOB>" in m for m in env.room_lines())


async def test_breaches_are_counted_by_sla_and_severity(env):
    await declare(env, Severity.SEV2)
    await env.at(61)
    counts = await env.store.breach_counts()
    assert counts[("ack", "SEV2")] == 1 and counts[("update", "SEV2")] == 2


async def test_no_commander_nudges_the_people_on_call_until_someone_leads(tmp_path):
    env = await make_env(tmp_path, {"reminders": {"resolution_after_hours": 0}})
    try:
        ref = await declare(env, Severity.SEV3)
        await env.at(9)
        assert not await env.events(ref, EventKind.REMINDER)
        await env.at(10)
        await env.at(40)
        reminders = await env.events(ref, EventKind.REMINDER)
        assert [(r.payload["what"], r.payload["mention"]) for r in reminders] == [
            ("commander", ["U0ONCALL"]), ("commander", ["U0ONCALL"]),
        ]  # fmt: skip
        await incidents.take_lead(env.deps, ref=ref, actor="U0ONCALL")
        await env.at(200)
        assert len(await env.events(ref, EventKind.REMINDER)) == 2
    finally:
        await env.close()


async def test_open_incidents_are_followed_up_after_24_h_then_every_4_h(tmp_path):
    env = await make_env(tmp_path, {"reminders": {"commander_after_minutes": 0}})
    try:
        ref = await declare(env, Severity.SEV4)
        await env.at(24 * 60 - 1)
        assert not await env.events(ref, EventKind.REMINDER)
        await env.at(32 * 60)
        hours = [r.payload["hours"] for r in await env.events(ref, EventKind.REMINDER)]
        assert hours == [24, 28, 32]
        await incidents.resolve(env.deps, ref=ref, actor="U1")
        await env.at(60 * 60)
        assert len(await env.events(ref, EventKind.REMINDER)) == 3
    finally:
        await env.close()


async def test_action_item_reminder_reaches_its_owner_after_the_incident_is_resolved(env):
    ref = await declare(env, Severity.SEV3)
    await incidents.resolve(env.deps, ref=ref, actor="U0ALICE")
    due = env.t0 + timedelta(days=3)
    assert await action_items.schedule_action_item(
        env.deps, ref=ref, item_id="ai-1", text="Add a canary for checkout", owner="U0CAROL", due_at=due
    )
    assert not await action_items.schedule_action_item(
        env.deps, ref=ref, item_id="ai-1", text="again", owner="U0CAROL", due_at=due
    )
    await action_items.schedule_action_item(
        env.deps, ref=ref, item_id="ai-2", text="done early", owner=None, due_at=due
    )
    assert await action_items.cancel_action_item(env.deps, ref=ref, item_id="ai-2")
    await env.at(3 * 24 * 60)
    reminders = await env.events(ref, EventKind.REMINDER)
    assert [(r.payload["item"], r.payload["mention"]) for r in reminders] == [("ai-1", ["U0CAROL"])]
    assert any("action item due: Add a canary for checkout" in m and "<@U0CAROL>" in m for m in env.room_lines())


@pytest.mark.parametrize(("began_minutes_before", "breached"), [(40, True), (10, False)])
async def test_an_incident_declared_late_after_its_first_alert_breaches_the_detect_sla(
    env, began_minutes_before, breached
):
    from dataclasses import replace

    from bot.services import alerts
    from tests.alert_builders import alert

    started = env.clock.now() - timedelta(minutes=began_minutes_before)
    result = await alerts.ingest(env.deps, [replace(alert(severity="error"), starts_at=started)], source="alertmanager")
    await env.settle()
    (ref,) = result.declared
    found = [e.payload for e in await env.events(ref, EventKind.SLA_BREACHED) if e.payload["sla"] == "detect"]
    assert found == ([{"sla": "detect", "severity": "SEV2", "due": (started + timedelta(minutes=15)).isoformat(),
                       "minutes": 15, "mention": []}] if breached else [])  # fmt: skip
