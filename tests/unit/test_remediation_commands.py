"""`/incident approve|reject <action-id>` and the Approve / Reject buttons go to the same decision: the grammar
takes one action id and nothing else, a refusal comes back as a clear sentence, and the card's click runs it."""

from __future__ import annotations

import pytest

from bot.domain.remediation import ActionStatus
from bot.services.remediation import ActionRefused
from handlers.slack.actions import click
from handlers.slack.commands import COMMANDS, dispatch
from handlers.slack.context import SlackContext
from handlers.slack.grammar import GrammarError
from tests.builders import sqlite_store
from tests.fakes.chat import readable
from tests.remediation_env import COMMANDER, STRANGER, make_env, step


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    env = await make_env(store, [step("high")])
    yield env
    await store.dispose()


@pytest.mark.parametrize("text", ["approve", "approve $(reboot)", "approve a-0123 extra", "reject ../../etc",
                                  "approve a-0123456789ab; rm -rf /", "approve a-0123456789ab\nreboot"])  # fmt: skip
def test_the_grammar_takes_exactly_one_action_id(text):
    with pytest.raises(GrammarError, match="action id"):
        COMMANDS.parse(text)


def test_an_action_id_parses_in_any_case():
    parsed = COMMANDS.parse("INC-20261123-001 approve A-0123456789AB")
    assert (parsed.sub, parsed.ref, parsed.rest) == ("approve", "INC-20261123-001", "a-0123456789ab")


async def test_the_slash_command_and_the_button_decide_the_same_way(env):
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    ctx = SlackContext(deps=env.deps, chat=env.chat)
    body = {"user_id": STRANGER, "channel_id": "C0GENERAL", "trigger_id": "t1"}
    with pytest.raises(ActionRefused, match="only the commander"):
        await dispatch(COMMANDS, ctx, COMMANDS.parse(f"approve {action.id}"), body, None)
    out = await click(ctx, {"action_id": "action-approve", "value": action.id}, COMMANDER)
    assert out is not None and out.changed
    await env.settle()
    assert len(env.executor.requests) == 1
    with pytest.raises(ActionRefused, match="already decided"):
        await click(ctx, {"action_id": "action-reject", "value": action.id}, COMMANDER)
    assert (await env.action(ref, "high")).status is ActionStatus.EXECUTED, "the second click changed nothing"


async def test_reject_by_the_commander_runs_nothing(env):
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    ctx = SlackContext(deps=env.deps, chat=env.chat)
    reply = await dispatch(COMMANDS, ctx, COMMANDS.parse(f"reject {action.id}"), {"user_id": COMMANDER}, None)
    assert "rejected: it will not run" in readable(reply)
    await env.settle()
    assert env.executor.requests == [] and (await env.action(ref, "high")).status is ActionStatus.REJECTED
