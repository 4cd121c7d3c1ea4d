"""`/incident` slash command: parse, call a use case, reply ephemeral."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.domain.incident import Severity
from bot.domain.text import ChannelLink, Text
from bot.services import incidents
from bot.services.errors import BadRequest
from handlers.slack.context import SlackContext
from handlers.slack.grammar import HELP, NEEDS_INCIDENT, NOT_YET, GrammarError, Parsed, parse
from handlers.slack.ids import COMMAND
from handlers.slack.render import declare_modal, list_text, status_text, timeline_text, update_modal
from handlers.slack.replies import ack_with_result, error_text

log = logging.getLogger("warroom.slack")


def register(app: Any, ctx: SlackContext) -> None:
    """Register the `/incident` listener."""

    async def on_incident(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        text = str(body.get("text") or "")
        try:
            parsed = parse(text)
        except GrammarError as exc:
            await ack(response_type="ephemeral", text=ctx.chat.render(Text.of(":warning: ", str(exc), "\n\n", HELP)))
            return
        except ValueError as exc:
            await ack(response_type="ephemeral", text=ctx.chat.render(error_text(exc)))
            return
        if parsed.sub == "declare" and not parsed.rest:
            await ack()
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=declare_modal(body.get("channel_id", "")))
            except Exception as exc:
                await respond(response_type="ephemeral", text=ctx.chat.render(error_text(exc)))
            return
        if parsed.sub == "update" and not parsed.rest:
            await ack_with_result(
                ack, respond, open_update(ctx, parsed, body, client), deadline=ctx.ack_deadline, render=ctx.chat.render
            )
            return
        await ack_with_result(ack, respond, run(ctx, parsed, body), deadline=ctx.ack_deadline, render=ctx.chat.render)

    app.command(COMMAND)(on_incident)


async def _ref_for(ctx: SlackContext, p: Parsed, channel: str) -> str:
    if p.ref is not None:
        return p.ref
    found = await incidents.for_channel(ctx.deps, channel_id=channel)
    if found is None:
        raise BadRequest(
            f"this channel is not a war room: run it in the incident's channel or give the reference, "
            f"e.g. `{COMMAND} {p.sub} INC-20261123-001`"
        )
    return found.ref


async def open_update(ctx: SlackContext, p: Parsed, body: dict[str, Any], client: Any) -> str:
    """`/incident update` with no text: open the status-update form."""
    inc = await incidents.get(ctx.deps, ref=await _ref_for(ctx, p, str(body.get("channel_id") or "")))
    await client.views_open(trigger_id=body["trigger_id"], view=update_modal(inc))
    return ""


async def run(ctx: SlackContext, p: Parsed, body: dict[str, Any]) -> Text | str:
    """Carry out a parsed command; return the ephemeral reply.

    The free text (title, note, reason...) arrives in Slack's markup (`&lt;`, `<@U1|bob>`, `<!channel>`):
    it is read into plain text here, so it is stored as written and escaped exactly once on its way out.
    """
    p = replace(p, rest=ctx.chat.plain(p.rest))
    user = str(body.get("user_id") or "")
    channel = str(body.get("channel_id") or "")
    request_key = f"slack-cmd:{body.get('trigger_id') or ''}" if body.get("trigger_id") else None
    deps = ctx.deps
    if p.sub == "help":
        return HELP
    if p.sub in NOT_YET:
        return f":construction: `{COMMAND} {p.sub}` is not available yet in this version of warroom."
    if p.sub == "declare":
        severity = p.severity or Severity.SEV3
        out = await incidents.declare(
            deps,
            title=p.rest,
            severity=severity,
            actor=user,
            declare_key=request_key,
            severity_confirmed=p.severity is not None,
            severity_reason="" if p.severity else "no severity given: please confirm or change it",
        )
        if not out.changed:
            room = out.incident.channel_id
            return Text.of(
                ":information_source: ", out.message, ": " if room else ".", ChannelLink(room) if room else None
            )
        return Text.of(
            f":rotating_light: *{out.incident.ref}* declared ({out.incident.severity.value}): ",
            out.incident.title,
            "\nOpening the war room now; you'll be invited.",
        )
    if p.sub == "list":
        return list_text(await incidents.list_incidents(deps, status="open"))
    ref = await _ref_for(ctx, p, channel) if p.sub in NEEDS_INCIDENT else p.ref
    assert ref is not None
    if p.sub == "status":
        return status_text(await incidents.get(deps, ref=ref))
    if p.sub == "timeline":
        inc, events = await incidents.timeline(deps, ref=ref)
        return timeline_text(inc, events)
    if p.sub == "ack":
        out = await incidents.acknowledge(deps, ref=ref, actor=user)
    elif p.sub == "lead":
        out = await incidents.take_lead(deps, ref=ref, actor=user)
    elif p.sub == "role":
        assert p.role is not None and p.user is not None
        out = await incidents.assign_role(deps, ref=ref, role=p.role, user_id=p.user, actor=user)
    elif p.sub == "sev":
        assert p.severity is not None
        out = await incidents.change_severity(deps, ref=ref, severity=p.severity, actor=user, reason=p.rest)
    elif p.sub == "note":
        out = await incidents.add_note(deps, ref=ref, actor=user, text=p.rest, request_key=request_key)
    elif p.sub == "update":
        out = await incidents.post_update(deps, ref=ref, actor=user, text=p.rest, request_key=request_key)
    elif p.sub == "resolve":
        out = await incidents.resolve(deps, ref=ref, actor=user, summary=p.rest)
    else:  # pragma: no cover - the grammar admits nothing else
        raise BadRequest(f"unknown subcommand {p.sub}")
    icon = ":white_check_mark:" if out.changed else ":information_source:"
    return Text.of(f"{icon} ", out.message, ".")
