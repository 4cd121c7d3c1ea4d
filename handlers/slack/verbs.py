"""What each `/incident` subcommand does: parse done, call one use case, return the ephemeral reply."""

from __future__ import annotations

from bot.domain.incident import Severity
from bot.domain.text import ChannelLink, Text
from bot.services import hypotheses, incidents, updates
from bot.services.incidents import Outcome
from handlers.slack.ids import COMMAND
from handlers.slack.invocation import Invocation
from handlers.slack.render import declare_modal, list_text, status_text, timeline_text, update_modal
from handlers.slack.render_hypotheses import hypotheses_text, runbook_text


def outcome_text(out: Outcome) -> Text:
    """The reply to a verb that changes an incident: done, or why nothing changed."""
    icon = ":white_check_mark:" if out.changed else ":information_source:"
    return Text.of(f"{icon} ", out.message, ".")


async def declare(call: Invocation) -> Text:
    """`declare [SEVn] <title>`: a new incident (a repeat of the same request names the first one)."""
    p = call.parsed
    out = await incidents.declare(
        call.deps,
        title=p.rest,
        severity=p.severity or Severity.SEV3,
        actor=call.user,
        declare_key=call.request_key,
        severity_confirmed=p.severity is not None,
        severity_reason="" if p.severity else "no severity given: please confirm or change it",
    )
    if not out.changed:
        room = out.incident.channel_id
        return Text.of(":information_source: ", out.message, ": " if room else ".", ChannelLink(room) if room else None)
    return Text.of(
        f":rotating_light: *{out.incident.ref}* declared ({out.incident.severity.value}): ",
        out.incident.title,
        "\nOpening the war room now; you'll be invited.",
    )


async def declare_form(call: Invocation) -> str:
    """`declare` with no text: open the declare form."""
    await call.client.views_open(trigger_id=call.body["trigger_id"], view=declare_modal(call.channel))
    return ""


async def update_form(call: Invocation) -> str:
    """`update` with no text: open the status-update form."""
    inc = await incidents.get(call.deps, ref=await call.ref())
    template = await updates.template(call.deps, ref=inc.ref)
    await call.client.views_open(trigger_id=call.body["trigger_id"], view=update_modal(inc, template))
    return ""


async def list_open(call: Invocation) -> Text:
    """`list`: the open incidents."""
    return list_text(await incidents.list_incidents(call.deps, status="open"))


async def status(call: Invocation) -> Text:
    """`status`: where the incident stands."""
    return status_text(await incidents.get(call.deps, ref=await call.ref()))


async def timeline(call: Invocation) -> Text:
    """`timeline`: the timeline so far."""
    inc, events = await incidents.timeline(call.deps, ref=await call.ref())
    return timeline_text(inc, events)


async def ack(call: Invocation) -> Text:
    """`ack`."""
    return outcome_text(await incidents.acknowledge(call.deps, ref=await call.ref(), actor=call.user))


async def lead(call: Invocation) -> Text:
    """`lead`: take the commander role."""
    return outcome_text(await incidents.take_lead(call.deps, ref=await call.ref(), actor=call.user))


async def role(call: Invocation) -> Text:
    """`role <role> @user`."""
    p = call.parsed
    assert p.role is not None and p.user is not None  # the grammar's role reader gives both
    out = await incidents.assign_role(call.deps, ref=await call.ref(), role=p.role, user_id=p.user, actor=call.user)
    return outcome_text(out)


async def severity(call: Invocation) -> Text:
    """`sev <SEVn> [reason]`."""
    p = call.parsed
    assert p.severity is not None  # the grammar's severity reader gives it
    ref = await call.ref()
    return outcome_text(
        await incidents.change_severity(call.deps, ref=ref, severity=p.severity, actor=call.user, reason=p.rest)
    )


async def note(call: Invocation) -> Text:
    """`note <text>`."""
    ref = await call.ref()
    out = await incidents.add_note(
        call.deps, ref=ref, actor=call.user, text=call.parsed.rest, request_key=call.request_key
    )
    return outcome_text(out)


async def update(call: Invocation) -> Text:
    """`update <text>`: a status update."""
    ref = await call.ref()
    out = await incidents.post_update(
        call.deps, ref=ref, actor=call.user, text=call.parsed.rest, request_key=call.request_key
    )
    return outcome_text(out)


async def resolve(call: Invocation) -> Text:
    """`resolve [summary]`."""
    return outcome_text(
        await incidents.resolve(call.deps, ref=await call.ref(), actor=call.user, summary=call.parsed.rest)
    )


async def list_hypotheses(call: Invocation) -> Text:
    """`hypotheses [--refresh]`: the hypotheses and their evidence; `--refresh` re-runs the diagnosis."""
    ref = await call.ref()
    words = call.parsed.rest.split()
    if words and words[0] in ("--refresh", "refresh"):
        out = await hypotheses.request_diagnosis(call.deps, ref=ref, actor=call.user, request_key=call.request_key)
        return outcome_text(out)
    if words:
        return Text.of(":warning: usage: `", COMMAND, " hypotheses [--refresh]`")
    incident, found = await hypotheses.hypotheses_of(call.deps, ref=ref)
    return hypotheses_text(incident, found, enabled=call.deps.diagnosis.enabled)


async def runbook(call: Invocation) -> Text:
    """`runbook [id]`: a runbook by id, else the incident's best match."""
    wanted = call.parsed.rest.strip()
    if wanted:
        return runbook_text(hypotheses.find_runbook(call.deps, wanted))
    ref = await call.ref()
    return runbook_text(await hypotheses.runbook_of(call.deps, ref=ref), matched_for=ref)


async def not_yet(call: Invocation) -> str:
    """A verb announced but not built yet."""
    return f":construction: `{COMMAND} {call.parsed.sub}` is not available yet in this version of warroom."
