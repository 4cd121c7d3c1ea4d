"""`/incident` slash command: the table of subcommands, and the listener that dispatches from it.

Every reply is ephemeral; an unknown subcommand gets the help (generated from the same table).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.domain.text import Text
from handlers.slack import verbs, verbs_control, verbs_escalation, verbs_postmortem, verbs_remediation
from handlers.slack.context import SlackContext
from handlers.slack.grammar import (
    CommandTable,
    GrammarError,
    Parsed,
    Subcommand,
    declare_args,
    role_args,
    severity_args,
)
from handlers.slack.ids import COMMAND
from handlers.slack.invocation import Invocation
from handlers.slack.replies import ack_with_result, error_text


async def show_help(call: Invocation) -> str:
    """`help`."""
    return COMMANDS.help()


COMMANDS = CommandTable(
    [
        Subcommand(
            "declare",
            "declare an incident (no text: open the form)",
            verbs.declare,
            usage="[SEV0-4] <title>",
            args=declare_args,
            aliases=("new", "open"),
            form=verbs.declare_form,
        ),
        Subcommand("status", "where the incident stands", verbs.status),
        Subcommand("list", "open incidents", verbs.list_open),
        Subcommand("ack", "acknowledge", verbs.ack, aliases=("acknowledge",)),
        Subcommand("lead", "take the commander role", verbs.lead),
        Subcommand("role", "assign a role", verbs.role, usage="<commander|comms|scribe|sme> @user", args=role_args),
        Subcommand(
            "sev",
            "change severity",
            verbs.severity,
            usage="<SEV0-4> [reason]",
            args=severity_args,
            aliases=("severity",),
        ),
        Subcommand(
            "note",
            "add a note to the timeline (or react with :pushpin: on any message)",
            verbs.note,
            usage="<text>",
            aliases=("notes",),
        ),
        Subcommand(
            "update",
            "post a status update (no text: open the form)",
            verbs.update,
            usage="<text>",
            form=verbs.update_form,
        ),
        Subcommand("timeline", "the timeline so far", verbs.timeline),
        Subcommand("resolve", "resolve", verbs.resolve, usage="[summary]"),
        Subcommand(
            "hypotheses",
            "the hypotheses and their evidence (`--refresh`: diagnose again)",
            verbs.list_hypotheses,
            usage="[--refresh]",
        ),
        Subcommand("runbook", "the matched runbook, or one by id", verbs.runbook, usage="[id]"),
        Subcommand(
            "approve",
            "approve a remediation (as its card's Approve button)",
            verbs_remediation.approve,
            usage="<action-id>",
            args=verbs_remediation.action_args,
        ),
        Subcommand(
            "reject",
            "reject a remediation",
            verbs_remediation.reject,
            usage="<action-id>",
            args=verbs_remediation.action_args,
        ),
        Subcommand("help", "this list", show_help, aliases=("?",)),
        # Announced in DESIGN.md, not built yet: they parse, answer "not available yet" and show as coming soon.
        Subcommand(
            "page",
            "page someone: mention and invite them, page them on PagerDuty",
            verbs_escalation.page,
            usage="<@user|team|oncall> [message]",
            args=verbs_escalation.page_args,
        ),
        Subcommand("escalate", "escalate one tier now", verbs_escalation.escalate, usage="[reason]"),
        Subcommand("oncall", "who is on call now", verbs_escalation.oncall, aliases=("on-call",)),
        Subcommand(
            "freeze",
            "freeze deploys until `unfreeze` or the resolve (`GET /api/v1/freeze`)",
            verbs_control.freeze,
            usage="[reason]",
        ),
        Subcommand("unfreeze", "lift this incident's deploy freeze", verbs_control.unfreeze, usage="[reason]"),
        Subcommand(
            "release",
            "end human control: the remediation policy applies again (commander or approver)",
            verbs_control.release,
        ),
        Subcommand(
            "postmortem",
            "post a new version of the post-mortem draft; `action`: add an action item to it",
            verbs_postmortem.postmortem,
            usage="[action <text> [@owner] [due YYYY-MM-DD]]",
            args=verbs_postmortem.postmortem_args,
        ),
    ]
)


def register(app: Any, ctx: SlackContext, table: CommandTable = COMMANDS) -> None:
    """Register the `/incident` listener, dispatching from `table`."""

    async def on_incident(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        try:
            parsed = table.parse(str(body.get("text") or ""))
        except GrammarError as exc:  # an unknown subcommand or a malformed one: say why, then the help
            await ack(
                response_type="ephemeral", text=ctx.chat.render(Text.of(":warning: ", str(exc), "\n\n", table.help()))
            )
            return
        except ValueError as exc:
            await ack(response_type="ephemeral", text=ctx.chat.render(error_text(exc)))
            return
        work = dispatch(table, ctx, parsed, body, client)
        await ack_with_result(ack, respond, work, deadline=ctx.ack_deadline, render=ctx.chat.render)

    app.command(COMMAND)(on_incident)


async def dispatch(
    table: CommandTable, ctx: SlackContext, parsed: Parsed, body: dict[str, Any], client: Any
) -> Text | str:
    """Run the command's row of the table: its form when no text follows and it has one, else its verb.

    The free text (title, note, reason...) arrives in Slack's markup (`&lt;`, `<@U1|bob>`, `<!channel>`): it is
    read into plain text here, so it is stored as written and escaped exactly once on its way out.
    """
    call = Invocation(ctx, replace(parsed, rest=ctx.chat.plain(parsed.rest)), body, client)
    sub = table[call.parsed.sub]
    if sub.form is not None and not call.parsed.rest:
        return await sub.form(call)
    return await (sub.run or verbs.not_yet)(call)
