"""SlackChatRoom: the ChatRoom port on the Slack Web API."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.domain.cards import Button, Card
from bot.domain.ports import ChannelInfo, ChatError, ChatMessage, ChatRefused, NameTaken
from bot.domain.text import Text
from integrations.slack_rooms import blocks_approvals, blocks_digest, blocks_hypotheses, mrkdwn
from integrations.slack_rooms.blocks import render_card, text_blocks
from integrations.slack_rooms.pacing import Pacer

log = logging.getLogger("warroom.slack")
_RENDERERS = (
    blocks_hypotheses.hypothesis_card,
    blocks_approvals.approval_card,
    blocks_digest.digest_card,
)  # imported for its @renders registration

# Every Web API method this adapter calls, with the bot scope it needs (checked against app-manifest.yml).
REQUIRED_SCOPES: dict[str, str] = {
    "conversations.create": "channels:manage",
    "conversations.setTopic": "channels:manage",
    "conversations.invite": "channels:manage",
    "conversations.join": "channels:join",
    "conversations.list": "channels:read",
    "conversations.history": "channels:history",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "pins.add": "pins:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "usergroups.users.list": "usergroups:read",
}
IGNORED_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}
TOPIC_MAX = 250
# How far before `since` a marker search starts: our clock and Slack's may disagree by this much.
CLOCK_SKEW_SECONDS = 300.0
HISTORY_PAGE = 200
MAX_HISTORY_PAGES = 50
# Errors a retry cannot fix: the outbox dead-letters the delivery at once (ChatRefused).
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "invalid_arguments",
        "missing_scope",
        "token_revoked",
    }
)


def to_chat_error(exc: Exception) -> ChatError:
    """Translate slack_sdk and network errors into the port's ChatError."""
    if isinstance(exc, SlackApiError):
        resp = exc.response
        status = getattr(resp, "status_code", 200)
        if status == 429:
            retry = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
            return ChatError("slack rate limit", code="ratelimited", retry_after=float(retry) if retry else None)
        if status >= 500:
            return ChatError(f"slack server error {status}", code="server_error")
        code = str(resp.get("error") or "unknown_error")
        cls = NameTaken if code == "name_taken" else ChatRefused if code in PERMANENT_ERRORS else ChatError
        return cls(f"slack error: {code}", code=code)
    if isinstance(exc, TimeoutError):
        return ChatError("slack timeout", code="timeout")
    return ChatError(f"slack unreachable: {type(exc).__name__}", code="connection_error")


class SlackChatRoom:
    """War rooms on Slack through one AsyncWebClient, paced per rate tier."""

    def __init__(self, client: AsyncWebClient, *, pacer: Pacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer()
        self._bot_user: str | None = None
        self._channels_by_name: dict[str, str] = {}

    async def _call(
        self,
        method: str,
        fn: Callable[..., Awaitable[AsyncSlackResponse]],
        pace_key: str | None = None,
        **kw: Any,
    ) -> AsyncSlackResponse:
        await self.pacer.acquire(method, pace_key)
        try:
            return await fn(**kw)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            raise to_chat_error(exc) from None

    async def bot_user_id(self) -> str:
        """The bot's user id (auth.test, cached)."""
        if self._bot_user is None:
            resp = await self._call("auth.test", self.client.auth_test)
            self._bot_user = str(resp["user_id"])
        return self._bot_user

    async def group_members(self, group_id: str) -> list[str]:
        """usergroups.users.list: the user ids of a user group's members."""
        resp = await self._call("usergroups.users.list", self.client.usergroups_users_list, usergroup=group_id)
        return [str(u) for u in resp.get("users") or []]

    async def create_channel(self, name: str) -> ChannelInfo:
        """conversations.create; NameTaken when the name is in use."""
        resp = await self._call("conversations.create", self.client.conversations_create, name=name, is_private=False)
        ch: dict[str, Any] = resp["channel"]
        self._channels_by_name[ch["name"]] = ch["id"]
        return ChannelInfo(ch["id"], ch["name"], ch.get("creator"))

    async def find_channel(self, name: str) -> ChannelInfo | None:
        """Page through conversations.list for a channel by name."""
        cursor: str | None = None
        for _ in range(100):
            kw: dict[str, Any] = {"types": "public_channel", "exclude_archived": True, "limit": 200}
            if cursor:
                kw["cursor"] = cursor
            resp = await self._call("conversations.list", self.client.conversations_list, **kw)
            channels: list[dict[str, Any]] = resp.get("channels", [])
            for ch in channels:
                if ch.get("name") == name:
                    self._channels_by_name[name] = ch["id"]
                    return ChannelInfo(ch["id"], ch["name"], ch.get("creator"))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    async def ensure_channel(self, name: str) -> ChannelInfo:
        """Join (or create) the channel with this name; cached after the first call."""
        known = self._channels_by_name.get(name)
        if known:
            return ChannelInfo(known, name)
        info = await self.find_channel(name)
        if info is None:
            try:
                info = await self.create_channel(name)
            except NameTaken:
                info = await self.find_channel(name)
                if info is None:
                    raise ChatError(f"channel #{name} exists but is not visible", code="channel_not_found") from None
        await self._call("conversations.join", self.client.conversations_join, channel=info.id)
        self._channels_by_name[name] = info.id
        return info

    async def set_topic(self, channel_id: str, topic: Text | str) -> None:
        """conversations.setTopic (250 chars max; the commander stays a mention, the title is escaped)."""
        await self._call(
            "conversations.setTopic",
            self.client.conversations_setTopic,
            channel=channel_id,
            topic=mrkdwn.clip(mrkdwn.render(topic), TOPIC_MAX),
        )

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite users, one call; on a per-user error fall back to one call each and skip the bad ones."""
        if not user_ids:
            return
        try:
            await self._call(
                "conversations.invite",
                self.client.conversations_invite,
                channel=channel_id,
                users=",".join(user_ids),
            )
            return
        except ChatError as exc:
            if exc.retryable:
                raise
            if exc.code in IGNORED_INVITE_ERRORS and len(user_ids) == 1:
                return
        for uid in user_ids:
            try:
                await self._call(
                    "conversations.invite", self.client.conversations_invite, channel=channel_id, users=uid
                )
            except ChatError as exc:
                if exc.retryable:
                    raise
                if exc.code not in IGNORED_INVITE_ERRORS:
                    log.warning("could not invite %s to %s: %s", uid, channel_id, exc.code)

    async def post_card(self, channel_id: str, card: Card) -> str:
        """chat.postMessage with the card's Block Kit (any card type with a renderer in blocks.py)."""
        rendered = render_card(card)
        resp = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel_id,
            channel=channel_id,
            text=rendered.text,
            blocks=validated(rendered.blocks),
            unfurl_links=False,
        )
        return str(resp["ts"])

    async def update_card(self, channel_id: str, ts: str, card: Card) -> None:
        """chat.update the card in place."""
        rendered = render_card(card)
        await self._call(
            "chat.update",
            self.client.chat_update,
            channel=channel_id,
            ts=ts,
            text=rendered.text,
            blocks=validated(rendered.blocks),
        )

    async def post_text(
        self,
        channel_id: str,
        text: Text | str,
        *,
        marker: str | None = None,
        buttons: tuple[Button, ...] = (),
        thread_ts: str | None = None,
    ) -> str:
        """chat.postMessage of one mrkdwn section (and a row of buttons); the same mrkdwn is the notification text.
        With `thread_ts`, a reply in that message's thread."""
        markup = mrkdwn.render(text)
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        resp = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage,
            channel_id,
            channel=channel_id,
            text=mrkdwn.clip(markup, 3000),
            blocks=validated(text_blocks(markup, marker, buttons)),
            unfurl_links=False,
            **extra,
        )
        return str(resp["ts"])

    async def pin(self, channel_id: str, ts: str) -> None:
        """pins.add; already pinned is fine."""
        try:
            await self._call("pins.add", self.client.pins_add, channel=channel_id, timestamp=ts)
        except ChatError as exc:
            if exc.code != "already_pinned":
                raise

    async def recent_messages(self, channel_id: str, limit: int = 50) -> list[ChatMessage]:
        """conversations.history, newest first."""
        resp = await self._call(
            "conversations.history", self.client.conversations_history, channel=channel_id, limit=limit
        )
        messages: list[dict[str, Any]] = resp.get("messages", [])
        return [_message(m) for m in messages]

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        """One message by ts (conversations.history with latest=ts inclusive)."""
        resp = await self._call(
            "conversations.history",
            self.client.conversations_history,
            channel=channel_id,
            latest=ts,
            inclusive=True,
            limit=1,
        )
        messages: list[dict[str, Any]] = resp.get("messages", [])
        msgs = [m for m in messages if m.get("ts") == ts]
        return _message(msgs[0]) if msgs else None

    def render(self, text: Text | str) -> str:
        """mrkdwn of a text: data escaped once, only the bot's own mentions and links live."""
        return mrkdwn.render(text)

    def plain(self, markup: str) -> str:
        """Plain text of Slack markup (what a user typed in a command, a message's text)."""
        return mrkdwn.plain(markup)

    async def find_marked(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        """Page through conversations.history back to `since` (less the clock skew) for the block id."""
        oldest = f"{max(0.0, since.timestamp() - CLOCK_SKEW_SECONDS):.6f}"
        cursor: str | None = None
        for _ in range(MAX_HISTORY_PAGES):
            kw: dict[str, Any] = {"channel": channel_id, "oldest": oldest, "limit": HISTORY_PAGE}
            if cursor:
                kw["cursor"] = cursor
            resp = await self._call("conversations.history", self.client.conversations_history, **kw)
            messages: list[dict[str, Any]] = resp.get("messages", [])
            for m in messages:
                if marker in _message(m).block_ids:
                    return str(m.get("ts"))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        log.warning("gave up looking for %s in %s after %s pages", marker, channel_id, MAX_HISTORY_PAGES)
        return None

    async def delete_message(self, channel_id: str, ts: str) -> None:
        """chat.delete of one of our own messages; one already gone is fine."""
        try:
            await self._call("chat.delete", self.client.chat_delete, channel=channel_id, ts=ts)
        except ChatError as exc:
            if exc.code != "message_not_found":
                raise

    async def upload_image(
        self, channel_id: str, *, thread_ts: str, filename: str, content: bytes, title: str, alt_text: str
    ) -> str:
        """files_upload_v2 (getUploadURLExternal, the bytes, completeUploadExternal) into a message's thread."""
        resp = await self._call(
            "files.completeUploadExternal",
            self.client.files_upload_v2,
            channel_id,
            channel=channel_id,
            thread_ts=thread_ts,
            filename=filename,
            content=content,
            title=mrkdwn.cut(mrkdwn.plain_text(title), 250),
            alt_txt=mrkdwn.cut(mrkdwn.plain_text(alt_text), 1000),
        )
        files: list[dict[str, Any]] = resp.get("files") or []
        return str(files[0].get("id")) if files else ""

    async def upload_file(
        self, channel_id: str, *, filename: str, content: bytes, title: str, thread_ts: str | None = None
    ) -> str:
        """files_upload_v2 of a text file into a channel (or a message's thread)."""
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        resp = await self._call(
            "files.completeUploadExternal", self.client.files_upload_v2, channel_id, channel=channel_id,
            filename=mrkdwn.cut(mrkdwn.plain_text(filename), 200), content=content,
            title=mrkdwn.cut(mrkdwn.plain_text(title), 250), **extra,
        )  # fmt: skip
        files: list[dict[str, Any]] = resp.get("files") or []
        return str(files[0].get("id")) if files else ""


def validated(blocks: list[Block]) -> list[dict[str, Any]]:
    """Blocks as JSON, each checked by its slack_sdk model; a block Slack would refuse is refused here, for good."""
    try:
        return [b.to_dict() for b in blocks]
    except SlackObjectFormationError as exc:
        raise ChatRefused(f"invalid blocks: {exc}", code="invalid_blocks") from None


def _message(m: dict[str, Any]) -> ChatMessage:
    block_ids = tuple(str(b["block_id"]) for b in m.get("blocks") or [] if b.get("block_id"))
    text = mrkdwn.plain(str(m.get("text") or ""))
    return ChatMessage(ts=str(m.get("ts")), user=m.get("user"), text=text, block_ids=block_ids)
