"""`/incident page`, `escalate`, `oncall` and the `update` form's template, dispatched from the command table."""

from __future__ import annotations

import pytest

from bot.domain.events import EventKind
from bot.domain.incident import Severity
from bot.services import incidents
from bot.services.errors import BadRequest
from handlers.slack.commands import COMMANDS, dispatch
from handlers.slack.context import SlackContext
from handlers.slack.grammar import GrammarError
from tests.escalation_env import make_env
from tests.fakes.chat import readable

ROTA = {
    "oncall": {
        "users": ["U0ONCALL"],
        "slack_group": "S0ONCALL",
        "rotations": [
            {"name": "primary", "users": ["U0CAROL", "U0DAVE"], "every": "weekly", "handoff": "09:00",
             "timezone": "Europe/Paris", "start": "2026-11-23"},
        ],
    },
    "teams": {"payments": {"members": ["U0PAY"], "slack_group": "S0PAY"}},
}  # fmt: skip


@pytest.fixture
async def env(tmp_path):
    e = await make_env(tmp_path, ROTA)
    yield e
    await e.close()


@pytest.mark.parametrize(
    ("text", "targets", "rest"),
    [
        ("page <@U0BOB|bob> <!subteam^S0DB|@db> the db is down", ("U0BOB", "S0DB"), "the db is down"),
        ("page payments checkout is slow", ("payments",), "checkout is slow"),
        ("page @oncall", ("oncall",), ""),
        ("page team:payments <@U0BOB> now", ("team:payments", "U0BOB"), "now"),
    ],
)
def test_page_reads_its_targets_then_the_message(text, targets, rest):
    parsed = COMMANDS.parse(text)
    assert (parsed.sub, parsed.targets, parsed.rest) == ("page", targets, rest)


def test_page_needs_a_target_and_keeps_a_reference():
    with pytest.raises(GrammarError, match="who should be paged"):
        COMMANDS.parse("page")
    parsed = COMMANDS.parse("INC-20261123-001 page oncall please")
    assert (parsed.ref, parsed.targets, parsed.rest) == ("INC-20261123-001", ("oncall",), "please")


async def war_room(env):
    ref = (
        await incidents.declare(env.deps, title="Checkout errors", severity=Severity.SEV2, actor="U0ALICE")
    ).incident.ref
    await env.settle()
    return ref, env.room().id


async def run(env, text, channel, client=None, trigger="trig-1"):
    ctx = SlackContext(deps=env.deps, chat=env.chat)
    body = {"user_id": "U0ALICE", "channel_id": channel, "trigger_id": trigger}
    return readable(await dispatch(COMMANDS, ctx, COMMANDS.parse(text), body, client))


async def test_page_in_the_war_room_mentions_and_invites_the_team(env):
    ref, room = await war_room(env)
    reply = await run(env, "page payments checkout is slow", room)
    assert reply.startswith(":white_check_mark:") and "<@U0PAY>" in reply and "<@S0PAY>" in reply
    await env.settle()
    assert "U0PAY" in env.room().members
    (paged,) = await env.events(ref, EventKind.PAGED)
    assert paged.payload["message"] == "checkout is slow" and paged.actor == "U0ALICE"
    with pytest.raises(BadRequest, match="teams: payments"):
        await run(env, "page billing now", room, trigger="trig-2")


async def test_escalate_by_hand_names_the_tier_reached(env):
    ref, room = await war_room(env)
    reply = await run(env, "escalate the database team is needed", room)
    assert "escalated to tier 1 (on-call)" in reply and "<@U0ONCALL>" in reply and "<@U0CAROL>" in reply
    again = await run(env, "escalate the database team is needed", room)  # Slack retried the same command
    assert "already escalated" in again
    reply = await run(env, "escalate", room, trigger="trig-2")
    assert "tier 2 (senior + lead)" in reply
    events = await env.events(ref, EventKind.ESCALATED)
    assert [e.payload["trigger"] for e in events] == ["manual", "manual"]


async def test_oncall_shows_who_and_until_when(env):
    reply = await run(env, "oncall", "C0ELSEWHERE")
    lines = reply.splitlines()
    assert lines[0].startswith("*On call now*") and "<@U0ONCALL> <@U0CAROL>" in lines[0]
    assert lines[1] == "Group: <@S0ONCALL>"
    assert lines[2] == "• primary: <@U0CAROL> until 2026-11-30 08:00 UTC, then <@U0DAVE>"


class Views:
    def __init__(self):
        self.opened = []

    async def views_open(self, trigger_id, view):
        self.opened.append(view)


async def test_update_without_text_offers_the_severity_template(env):
    ref, room = await war_room(env)
    views = Views()
    assert await run(env, "update", room, client=views) == ""
    (view,) = views.opened
    element = view["blocks"][1]["element"]
    assert element["initial_value"].startswith(f"[SEV2] {ref}: Checkout errors\nStatus: declared\nWhat happened:")
    assert "Next update at: 09:30 UTC" in element["initial_value"]


def test_an_untouched_template_is_not_an_update():
    from bot.domain.updates import unfilled

    offered = (
        "[SEV2] INC-1: x\nStatus: declared\nWhat happened:\nImpact:\nWhat we are doing:\nNext update at: 09:30 UTC"
    )
    assert unfilled(offered.replace("09:30", "09:31"), offered)
    assert not unfilled(offered.replace("What happened:", "What happened: a bad deploy"), offered)
