"""What happens when the bot posts to a response_url the emulator handed out."""

from __future__ import annotations

from . import args as a
from .blockkit import check_message_content, parse_blocks
from .errors import ApiError
from .interactions import RESPONSE_URL_USES
from .records import BOT_USER_ID, JSON
from .workspace import Workspace


def respond(ws: Workspace, token: str, body: JSON) -> tuple[int, JSON]:
    """Apply a response_url post: ephemeral (default) or in_channel, replace_original or delete_original."""
    with ws.lock:
        target = ws.response_targets.get(token)
        if target is None:
            return 404, {"ok": False, "error": "expired_url"}
        if target.uses >= RESPONSE_URL_USES:
            return 404, {"ok": False, "error": "used_url"}
        channel = ws.channel(target.channel)
        if channel is None:
            return 404, {"ok": False, "error": "channel_not_found"}
        target.uses += 1
        original = ws.find_message(channel.id, target.message_ts) if target.message_ts else None
        note = next((e for e in ws.ephemeral if e.ts == target.message_ts and e.channel == channel.id), None)
        if a.flag(body, "delete_original"):
            if original is not None:
                ws.delete(original)
            elif note is not None:
                ws.ephemeral.remove(note)
            return 200, {"ok": True}
        try:
            raw_blocks = body.get("blocks")
            blocks = parse_blocks(raw_blocks) if raw_blocks not in (None, "") else None
            text = a.text(body, "text")
            check_message_content(text, blocks)
        except ApiError as error:
            return 400, {"ok": False, "error": error.code, "response_metadata": {"messages": error.messages}}
        if a.flag(body, "replace_original") and (original is not None or note is not None):
            if original is not None:
                ws.edit(original, BOT_USER_ID, text or "", blocks)
            elif note is not None:
                note.text, note.blocks = text or "", blocks
            return 200, {"ok": True}
        if body.get("response_type") == "in_channel":
            thread_ts = a.text(body, "thread_ts")
            if thread_ts and ws.find_message(channel.id, thread_ts) is None:
                return 400, {"ok": False, "error": "thread_not_found"}
            ws.post(channel, BOT_USER_ID, text or "", blocks=blocks, thread_ts=thread_ts)
        else:
            ws.post_ephemeral(channel, target.user, text or "", blocks, a.text(body, "thread_ts"), "response_url")
        return 200, {"ok": True}
