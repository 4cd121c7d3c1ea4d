"""`/incident` is dispatched from one table: every verb of DESIGN.md is a row, the help is written from the rows,
and a new row is parsed, dispatched and listed in the help with nothing else to edit."""

from __future__ import annotations

import pytest

from bot.domain.text import Text
from handlers.slack.commands import COMMANDS, dispatch, register
from handlers.slack.context import SlackContext
from handlers.slack.grammar import CommandTable, GrammarError, Parsed, Subcommand
from handlers.slack.invocation import Invocation
from handlers.slack.verbs import not_yet
from tests.builders import deps_for, sqlite_store
from tests.fakes.chat import FakeChatRoom, readable

# DESIGN.md section 5, "Slash command /incident with subcommands".
DESIGN_SUBCOMMANDS = {
    "declare", "status", "list", "sev", "ack", "lead", "role", "note", "update", "timeline", "hypotheses",
    "runbook", "approve", "page", "escalate", "freeze", "unfreeze", "release", "resolve", "postmortem", "help",
    "oncall",  # shared/DESIGN.md 5 as issue 13 extends it (`/incident page|escalate|update|oncall`)
    "reject",  # issue 12: `reject <action-id>` next to `approve <action-id>`
}  # fmt: skip


@pytest.fixture
async def ctx(tmp_path):
    store = await sqlite_store(tmp_path)
    yield SlackContext(deps=deps_for(store), chat=FakeChatRoom())
    await store.dispose()


def test_every_subcommand_of_the_design_is_a_row():
    assert set(COMMANDS.subcommands) == DESIGN_SUBCOMMANDS
    assert set(COMMANDS.available) | set(COMMANDS.not_yet) == DESIGN_SUBCOMMANDS


def test_the_help_is_written_from_the_rows():
    help_text = COMMANDS.help()
    for name in COMMANDS.available:
        if name != "help":
            assert COMMANDS[name].help_line() in help_text.splitlines(), name
    coming = [line for line in help_text.splitlines() if line.startswith("Coming soon: ")]
    assert coming == ([f"Coming soon: {', '.join(COMMANDS.not_yet)}."] if COMMANDS.not_yet else [])
    assert "• `/incident declare [SEV0-4] <title>` — declare an incident (no text: open the form)" in help_text


def test_aliases_lead_to_rows():
    for alias, name in COMMANDS.aliases.items():
        assert COMMANDS.parse(f"{alias} SEV2 words").sub == name
    assert COMMANDS.parse("acknowledge").sub == "ack" and COMMANDS.parse("?").sub == "help"


def test_a_table_refuses_aliases_that_shadow_a_row_or_lead_nowhere():
    def run(_: Invocation) -> str:
        return ""

    with pytest.raises(ValueError, match="shadow"):
        CommandTable(
            [Subcommand(n, "", run) for n in ("help", "status")] + [Subcommand("ack", "", run, aliases=("help",))]
        )
    with pytest.raises(ValueError, match="'status' is not a subcommand"):
        CommandTable([Subcommand("help", "", run)])


async def wave(call: Invocation) -> Text:
    return Text.of(f"{call.user} waves at ", call.parsed.rest)


TOY = CommandTable(
    [
        Subcommand("help", "this list", None),
        Subcommand("status", "where it stands", None),
        Subcommand("wave", "wave at someone", wave, usage="<who>", aliases=("hi",)),
    ]
)


async def test_a_new_row_is_parsed_dispatched_and_in_the_help(ctx):
    parsed = TOY.parse("hi the room")
    assert parsed == Parsed("wave", rest="the room")
    reply = await dispatch(TOY, ctx, parsed, {"user_id": "U0ALICE", "channel_id": "C1"}, client=None)
    assert readable(reply) == "U0ALICE waves at the room"
    assert "• `/incident wave <who>` — wave at someone" in TOY.help().splitlines()
    assert "Coming soon: help, status." in TOY.help()
    with pytest.raises(GrammarError, match="unknown subcommand `ack`"):
        TOY.parse("ack")


async def test_a_row_without_a_verb_answers_not_yet(ctx):
    reply = await dispatch(TOY, ctx, TOY.parse("status now"), {}, client=None)
    assert reply == await not_yet(Invocation(ctx, Parsed("status"), {}, None))
    assert "`/incident status` is not available yet" in reply


class Acks:
    """Records what the listener acked (the listener's side of Bolt's `ack`)."""

    def __init__(self) -> None:
        self.acks: list[dict] = []

    async def __call__(self, **kw) -> None:
        self.acks.append(kw)


class Listeners:
    """Collects what `register` hands to `app.command` (the one call it makes on the Bolt app)."""

    def __init__(self) -> None:
        self.commands: dict = {}

    def command(self, name):
        def add(fn):
            self.commands[name] = fn
            return fn

        return add


@pytest.mark.parametrize("text", ["frobnicate now", "", "?", "role janitor <@U0ALICE>"])
async def test_unknown_or_malformed_commands_and_help_get_an_ephemeral_help(ctx, text):
    app = Listeners()
    register(app, ctx)
    ack = Acks()
    await app.commands["/incident"](ack=ack, body={"text": text, "user_id": "U0ALICE"}, respond=None, client=None)
    [answer] = ack.acks
    assert answer["response_type"] == "ephemeral"
    if text.startswith("role"):
        assert "commander" in answer["text"]
    else:
        assert COMMANDS.help() in answer["text"]
    if text.startswith("frob"):
        assert answer["text"].startswith(":warning: unknown subcommand `frobnicate`")
