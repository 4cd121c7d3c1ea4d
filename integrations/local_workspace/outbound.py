"""What the workspace sends to the bot: slash commands, clicks, view submissions, events.

Over HTTP they are signed POSTs to the bot's `events_url`; in Socket Mode (an app-level token is set)
the same payloads travel as envelopes on the bot's WebSocket.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx

from .blockkit import parse_blocks, parse_view
from .clock import Clock
from .errors import ApiError
from .interactions import TRIGGER_TTL, InteractionState
from .payloads import (
    action,
    block_actions,
    event_envelope,
    find_element,
    form_body,
    payload_body,
    slash_command,
    view_state,
    view_submission,
)
from .records import BOT_USER_ID, JSON, TEAM_ID, Channel, Delivery, View
from .signing import signed_headers
from .socket_mode import ACK_TIMEOUT, Envelope, SocketHub

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


class Outbound(InteractionState):
    """Workspace state plus the signed HTTP requests Slack would send to the bot's `events_url`."""

    def __init__(
        self,
        *,
        signing_secret: str,
        events_url: str | None,
        clock: Clock | None,
        base_url: str,
        trigger_ttl: float | None = TRIGGER_TTL,
        delivery_timeout: float = 10.0,
        app_token: str | None = None,
        ack_timeout: float = ACK_TIMEOUT,
    ) -> None:
        self.signing_secret = signing_secret
        self.events_url = events_url
        # Where the control API may point events_url: the bot alone (the emulator POSTs there and shows the
        # answer, so any other URL would make it a proxy into the network).
        self.bot_events_urls: set[str] = {events_url} if events_url else set()
        self.delivery_timeout = delivery_timeout
        self.sockets = SocketHub(app_token, clock=clock, ack_timeout=ack_timeout)
        super().__init__(clock, base_url, trigger_ttl)

    @property
    def app_token(self) -> str | None:
        """The app-level (xapp-) token; when set, deliveries go over Socket Mode."""
        return self.sockets.app_token

    def _seed_state(self) -> None:
        super()._seed_state()
        self.deliveries: list[Delivery] = []
        self.sockets.clear_records()

    def _client(self) -> httpx.AsyncClient:
        """One keep-alive client per event loop (building a client costs an SSL context, ~15 ms)."""
        loop = asyncio.get_running_loop()
        clients: dict[int, httpx.AsyncClient] = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(loop))
        if client is None or client.is_closed:
            client = clients[id(loop)] = httpx.AsyncClient(timeout=self.delivery_timeout)
        return client

    def http(self) -> httpx.AsyncClient:
        """The keep-alive HTTP client of the running loop (for requests the emulator makes to the bot)."""
        return self._client()

    async def close_clients(self) -> None:
        """Close the keep-alive client of the running loop."""
        client = self.__dict__.get("_clients", {}).pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.aclose()

    async def deliver(self, kind: str, body: bytes, content_type: str, retry_num: int | None = None) -> httpx.Response:
        """POST a signed body to the bot's events_url and return its response."""
        if not self.events_url:
            raise RuntimeError("the workspace has no events_url to send to")
        headers = signed_headers(self.signing_secret, int(self.clock()), body, content_type, retry_num)
        record = Delivery(kind, body.decode("utf-8"))
        with self.lock:
            self.deliveries.append(record)
        response = await self._client().post(self.events_url, content=body, headers=headers)
        record.status, record.response = response.status_code, response.text
        return response

    async def _send(
        self, kind: str, payload: JSON, body: bytes, content_type: str, retry_num: int | None = None
    ) -> httpx.Response:
        """Deliver one payload the way the app is set up: a Socket Mode envelope, or a signed POST of `body`."""
        if not self.sockets.enabled:
            return await self.deliver(kind, body, content_type, retry_num)
        record = Delivery(kind, json.dumps(payload, separators=(",", ":"), ensure_ascii=False), transport="socket")
        with self.lock:
            self.deliveries.append(record)
        envelope = await self.sockets.deliver(kind, payload, retry_num)
        if not envelope.attempts:
            record.status = 503
            raise RuntimeError("no Socket Mode connection is open")
        response = _ack_response(envelope)
        record.status, record.response = response.status_code, response.text
        return response

    async def send_command(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        command: str = "/incident",
        retry_num: int | None = None,
    ) -> httpx.Response:
        """Send a slash command from `user_id` in `channel_id`, form-encoded like Slack."""
        with self.lock:
            user, channel = self.user(user_id), self.resolve_channel(channel_id)
            trigger_id = self.new_trigger_id(user.id)
            fields = slash_command(user, channel, command, text, self.new_response_url(user.id, channel.id), trigger_id)
        response = await self._send("command", dict(fields), form_body(fields), FORM, retry_num)
        self._show_command_reply(user.id, channel.id, response)
        return response

    def _show_command_reply(self, user_id: str, channel_id: str, response: httpx.Response) -> None:
        """Show the bot's answer to a slash command as Slack does: to the user alone, or in the channel."""
        if response.status_code != 200 or not response.content.strip():
            return
        try:
            reply = response.json()
        except ValueError:
            reply = {"text": response.text}
        if not isinstance(reply, dict):
            return
        text = reply.get("text")
        text = text if isinstance(text, str) else ""
        try:
            blocks = parse_blocks(reply["blocks"]) if reply.get("blocks") else None
        except ApiError:
            blocks = None  # Slack drops blocks it cannot show and keeps the text
        if not text and not blocks:
            return
        with self.lock:
            channel = self.channel(channel_id)
            if channel is None:
                return
            if reply.get("response_type") == "in_channel":
                self.post(channel, BOT_USER_ID, text, blocks=blocks)
            else:
                self.post_ephemeral(channel, user_id, text, blocks, source="command_reply")

    async def click(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        selected_option: JSON | None = None,
        block_id: str | None = None,
    ) -> httpx.Response:
        """Click element `action_id` on a message (or ephemeral message): a `block_actions` interaction."""
        with self.lock:
            user, channel = self.user(user_id), self.resolve_channel(channel_id)
            message = self.find_message(channel.id, message_ts)
            note = next((e for e in self.ephemeral if e.channel == channel.id and e.ts == message_ts), None)
            if message is None and note is None:
                raise ApiError("message_not_found")
            blocks = (message.blocks if message else note.blocks if note else None) or []
            found = find_element(blocks, action_id, block_id)
            entry = action(found, action_id, self.ids.ts(), value, selected_option, block_id)
            url = self.new_response_url(user.id, channel.id, message_ts)
            payload = block_actions(user, channel, message, message_ts, entry, self.new_trigger_id(user.id), url)
        return await self._send("block_actions", payload, payload_body(payload), FORM)

    async def submit_view(
        self,
        user_id: str,
        view_id: str,
        values: dict[str, Any],
        callback_id: str | None = None,
        private_metadata: str | None = None,
    ) -> httpx.Response:
        """Submit an opened modal (`values` keyed by action_id or block_id); apply the response_action."""
        with self.lock:
            user = self.user(user_id)
            view = self.views.get(view_id)
            if view is None:
                if callback_id is None:
                    raise ApiError("not_found")
                view = View(view_id, user.id, {"type": "modal", "blocks": []}, "0.local", view_id)
            overrides: JSON = {}
            if callback_id is not None:
                overrides["callback_id"] = callback_id
            if private_metadata is not None:
                overrides["private_metadata"] = private_metadata
            state = view_state(view, values)
            payload = view_submission(user, view, state, self.new_trigger_id(user.id), overrides)
        response = await self._send("view_submission", payload, payload_body(payload), FORM)
        self._apply_response_action(view, response)
        return response

    def _apply_response_action(self, view: View, response: httpx.Response) -> None:
        """Close, update, push or mark errors on the view as the bot's reply asks."""
        try:
            reply = response.json() if response.content else {}
        except ValueError:
            reply = {}
        kind = reply.get("response_action") if isinstance(reply, dict) and response.status_code == 200 else None
        with self.lock:
            self.feed.changed()
            if response.status_code != 200:
                return
            if kind == "errors":
                view.errors = reply.get("errors") or {}
            elif kind in {"update", "push"}:
                try:
                    payload = parse_view(reply.get("view"))
                except ApiError as error:
                    view.errors = {"view": "; ".join(error.messages) or error.code}
                    return
                if kind == "update":
                    self.replace_view(view, payload)
                else:
                    self.open_view(view.user, payload, previous=view)
            elif kind == "clear":
                for other in self.views.values():
                    if other.root_view_id == view.root_view_id:
                        other.is_open = False
            else:
                view.is_open = False

    async def send_event(
        self, event: JSON, event_id: str | None = None, retry_num: int | None = None
    ) -> httpx.Response:
        """Deliver an Events API `event_callback` (pass the same event_id and a retry_num to redeliver)."""
        with self.lock:
            event_id = event_id or self.ids.next("Ev0LOCAL", 8)
            envelope = event_envelope(copy.deepcopy(event), event_id, int(self.clock()))
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return await self._send("event", envelope, body, JSON_TYPE, retry_num)

    async def react(self, user_id: str, channel_id: str, ts: str, name: str = "pushpin") -> httpx.Response:
        """Add `user_id`'s reaction to a message and send `reaction_added`."""
        with self.lock:
            channel, user = self.resolve_channel(channel_id), self.user(user_id)
            message = self.message(channel.id, ts)
            self.add_reaction(message, user.id, name)
            event = {
                "type": "reaction_added",
                "user": user.id,
                "reaction": name,
                "item": {"type": "message", "channel": channel.id, "ts": ts},
                "item_user": message.user,
                "event_ts": self.ids.ts(),
            }
        return await self.send_event(event)

    async def pin(self, user_id: str, channel_id: str, ts: str) -> httpx.Response:
        """Pin a message as `user_id` and send `pin_added` with the message in `item`."""
        with self.lock:
            channel, user = self.resolve_channel(channel_id), self.user(user_id)
            message = self.message(channel.id, ts)
            self.pin_message(message, user.id)
            pinned_at = message.pin.pinned_at if message.pin else int(self.clock())
            item_message = {**message.to_dict(), "permalink": self.permalink(channel.id, ts)}
            event = {
                "type": "pin_added",
                "user": user.id,
                "channel_id": channel.id,
                "item": {
                    "type": "message",
                    "created": pinned_at,
                    "created_by": user.id,
                    "channel": channel.id,
                    "message": item_message,
                },
                "item_user": message.user,
                "pin_count": len(self.pins(channel.id)),
                "pinned_info": {"channel": channel.id, "pinned_by": user.id, "pinned_ts": pinned_at},
                "event_ts": self.ids.ts(),
            }
        return await self.send_event(event)

    async def post_as_user(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None
    ) -> httpx.Response:
        """Post as a human and send the `message` event (plus `app_mention` when it mentions the bot)."""
        with self.lock:
            channel, user = self.resolve_channel(channel_id), self.user(user_id)
            if user.id not in channel.members:
                if channel.is_private:
                    raise ApiError("not_in_channel")
                channel.members.append(user.id)
            blocks = [_rich_text(text, self.ids.digest("block", 4))]
            message = self.post(channel, user.id, text, blocks=blocks, thread_ts=thread_ts)
            event = {
                "type": "message",
                "channel": channel.id,
                "user": user.id,
                "text": text,
                "ts": message.ts,
                "event_ts": message.ts,
                "channel_type": _channel_type(channel),
                "team": TEAM_ID,
                "blocks": blocks,
                "client_msg_id": self._client_msg_id(),
            }
            if message.thread_ts:
                event["thread_ts"] = message.thread_ts
        response = await self.send_event(event)
        if f"<@{BOT_USER_ID}>" in text:
            mention = {k: v for k, v in event.items() if k != "channel_type"}
            await self.send_event({**mention, "type": "app_mention"})
        return response

    def _client_msg_id(self) -> str:
        digest = self.ids.digest("client_msg", 32)
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _ack_response(envelope: Envelope) -> httpx.Response:
    """The bot's answer as an HTTP-like response: 200 with the ack's payload, or 504 when never acked."""
    if not envelope.acked:
        return httpx.Response(504, json={"ok": False, "error": "not_acked", "envelope_id": envelope.envelope_id})
    if envelope.response is None:
        return httpx.Response(200)
    return httpx.Response(200, json=envelope.response)


def _channel_type(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "group" if channel.is_private else "channel"


def _rich_text(text: str, block_id: str) -> JSON:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return {"type": "rich_text", "block_id": block_id, "elements": [section]}
