"""The declare modal's submission."""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.incident import Severity
from bot.domain.text import Text
from bot.services import incidents, updates
from handlers.slack.context import SlackContext
from handlers.slack.ids import (
    BLOCK_DESCRIPTION,
    BLOCK_SEVERITY,
    BLOCK_TITLE,
    BLOCK_UPDATE,
    CALLBACK_DECLARE,
    CALLBACK_UPDATE,
    SHORTCUT_DECLARE,
)
from handlers.slack.render import declare_modal
from handlers.slack.replies import error_text

log = logging.getLogger("warroom.slack")


def _value(values: dict[str, Any], block: str) -> str:
    v = (values.get(block) or {}).get(block) or {}
    if v.get("selected_option"):
        return str(v["selected_option"].get("value") or "")
    return str(v.get("value") or "")


async def submit_declare(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
    """The declare form: checked before the ack (errors shown in the form), declared after it."""
    values = (view.get("state") or {}).get("values") or {}
    title = " ".join(_value(values, BLOCK_TITLE).split())
    if not title:
        await ack(response_action="errors", errors={BLOCK_TITLE: "Give the incident a title."})
        return
    try:
        severity = Severity.parse(_value(values, BLOCK_SEVERITY) or "SEV3")
    except ValueError as exc:
        await ack(response_action="errors", errors={BLOCK_SEVERITY: str(exc)})
        return
    await ack()
    user = str((body.get("user") or {}).get("id") or "")
    try:
        out = await incidents.declare(
            ctx.deps, title=title, severity=severity, actor=user, declare_key=f"slack-view:{view.get('id')}"
        )
        description = _value(values, BLOCK_DESCRIPTION).strip()
        if out.changed and description:
            await incidents.add_note(
                ctx.deps, ref=out.incident.ref, actor=user, text=description, request_key=f"view:{view.get('id')}"
            )
    except Exception as exc:
        log.warning("declare from modal failed: %s", error_text(exc))
        return
    await _confirm_declare(
        ctx, client, str(view.get("private_metadata") or ""), user, out.incident.ref, title, severity
    )


async def _confirm_declare(
    ctx: SlackContext, client: Any, channel: str, user: str, ref: str, title: str, severity: Severity
) -> None:
    """Tell the declarer, in the channel the form was opened from, that the room is on its way."""
    if not channel:
        return
    text = Text.of(
        f":rotating_light: *{ref}* declared ({severity.value}): ",
        title,
        ". Opening the war room now; you'll be invited.",
    )
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=ctx.chat.render(text))
    except Exception as exc:  # a courtesy message only; the incident exists
        log.info("could not confirm declare to %s: %s", user, exc)


async def submit_update(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    """The status-update form."""
    values = (view.get("state") or {}).get("values") or {}
    text = _value(values, BLOCK_UPDATE).strip()
    if not text:
        await ack(response_action="errors", errors={BLOCK_UPDATE: "Write the update."})
        return
    ref = str(view.get("private_metadata") or "")
    try:
        untouched = await updates.untouched(ctx.deps, ref=ref, text=text)
    except Exception:  # the incident is gone or the database is down: post_update below says why
        untouched = False
    if untouched:
        await ack(response_action="errors", errors={BLOCK_UPDATE: "Write the update: fill in the template."})
        return
    await ack()
    user = str((body.get("user") or {}).get("id") or "")
    try:
        await incidents.post_update(ctx.deps, ref=ref, actor=user, text=text, request_key=f"view:{view.get('id')}")
    except Exception as exc:
        log.warning("status update from modal failed: %s", error_text(exc))


def register(app: Any, ctx: SlackContext) -> None:
    """Register the listeners of the declare and status-update forms, and the declare shortcut."""

    async def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        await submit_declare(ctx, ack, body, view, client)

    async def on_update(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        await submit_update(ctx, ack, body, view)

    async def on_shortcut(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=declare_modal(""))

    app.view(CALLBACK_DECLARE)(on_submit)
    app.view(CALLBACK_UPDATE)(on_update)
    app.shortcut(SHORTCUT_DECLARE)(on_shortcut)
