"""Broadcaster on discord.py's webhook support: one message per call (content, embeds, files) to a webhook.

The webhook's id and token come from its URL (`https://discord.com/api/webhooks/<id>/<token>`); requests go to
`api_url` (DISCORD_API_URL). discord.py builds every URL from its own base (`discord.http.Route.BASE`), so the
aiohttp session the webhook is given carries a client middleware (aiohttp's own API) that moves requests from
that base onto `api_url`: nothing of discord.py is patched, and the default base needs no middleware at all.

Mentions: `allowed_mentions` lets the configured role ping and nothing else, and data is escaped besides, so
`@everyone` in an alert is text. Rate limits: discord.py waits out a 429's `retry_after` itself (when Discord's
proxy sent it); a wait longer than `max_wait` is cut short and reported as `ChatError("ratelimited")` with the
`retry_after` seen, and the outbox retries then. Errors never carry the webhook token.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import discord
from discord.http import Route
from yarl import URL

from bot.domain.outbound import Attachment, Notice
from bot.domain.ports import ChatError, ChatRefused
from bot.domain.text import Text
from integrations.discord_embeds import embed, fit, render

WEBHOOK_URL = re.compile(r"/api(?:/v\d+)?/webhooks/(\d{1,20})/([A-Za-z0-9._-]+)/?$")
FILES_MAX_BYTES = 8 * 1024 * 1024


def parse_webhook_url(url: str) -> tuple[int, str]:
    """(id, token) of a webhook URL; ValueError (without the token) when it is not one."""
    m = WEBHOOK_URL.search(url.split("?", 1)[0])
    if m is None:
        raise ValueError("not a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)")
    return int(m.group(1)), m.group(2)


class _Seen:
    """What the middleware saw of one send: the last 429's retry_after, and whether it is too long to wait."""

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait
        self.retry_after: float | None = None
        self.too_long = asyncio.Event()

    def rate_limited(self, retry_after: float | None) -> None:
        self.retry_after = retry_after
        if retry_after is not None and retry_after > self.max_wait:
            self.too_long.set()


def _middleware(api_url: str, seen: _Seen) -> Callable[..., Any]:
    base = Route.BASE.rstrip("/")

    async def rebase(req: aiohttp.ClientRequest, handler: Callable[..., Any]) -> aiohttp.ClientResponse:
        url = str(req.url)
        if api_url != base and url.startswith(base + "/"):
            req.url = URL(api_url + url[len(base) :])
            req.headers["Host"] = req.url.raw_authority
        response: aiohttp.ClientResponse = await handler(req)
        if response.status == 429:
            try:
                seen.rate_limited(float((await response.json(content_type=None)).get("retry_after")))
            except (ValueError, TypeError, AttributeError, aiohttp.ContentTypeError, json.JSONDecodeError):
                seen.rate_limited(None)
        return response

    return rebase


class DiscordWebhook:
    """One Discord webhook (the alert channel, or the reports channel)."""

    def __init__(
        self,
        url: str,
        *,
        api_url: str = "https://discord.com/api/v10",
        role_id: str | None = None,
        username: str | None = None,
        redact: Callable[[str], str] = lambda s: s,
        max_wait: float = 15.0,
        timeout: float = 30.0,
    ) -> None:
        self.webhook_id, self._token = parse_webhook_url(url)
        self.api_url = api_url.rstrip("/")
        self.role_id = role_id
        self.username = username
        self.redact = redact
        self.max_wait = max_wait
        self.timeout = timeout

    def message(self, notices: Sequence[Notice], *, headline: Text | str = "", ping: bool = False) -> dict[str, Any]:
        """The message as sent: content (the role mention first when pinging) and embeds, within the limits."""
        content = render(headline)
        if ping and self.role_id:
            content = f"<@&{self.role_id}> {content}".strip()
        content, embeds = fit(content, [embed(n) for n in notices])
        return {"content": self._scrub(content), "embeds": [self._scrub(e) for e in embeds]}

    def allowed_mentions(self, ping: bool) -> discord.AllowedMentions:
        """Only the configured role, and only when pinging; never @everyone, @here, users or other roles."""
        roles: list[discord.abc.Snowflake] | bool = (
            [discord.Object(int(self.role_id))] if ping and self.role_id else False
        )
        return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)

    async def broadcast(
        self,
        notices: Sequence[Notice],
        *,
        headline: Text | str = "",
        ping: bool = False,
        files: Sequence[Attachment] = (),
    ) -> None:
        """Post one message to the webhook."""
        msg = self.message(notices, headline=headline, ping=ping)
        if sum(len(f.data) for f in files) > FILES_MAX_BYTES:
            raise ChatRefused("files over 8 MiB", code="file_too_large")
        seen = _Seen(self.max_wait)
        kwargs: dict[str, Any] = {
            "content": msg["content"] or discord.utils.MISSING,
            "embeds": [discord.Embed.from_dict(e) for e in msg["embeds"]],
            "allowed_mentions": self.allowed_mentions(ping),
            "files": [discord.File(io.BytesIO(f.data), filename=self.redact(f.filename)) for f in files],
            "username": self.username or discord.utils.MISSING,
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout, middlewares=(_middleware(self.api_url, seen),)) as s:
                hook = discord.Webhook.partial(self.webhook_id, self._token, session=s)
                async with asyncio.timeout(self.max_wait + self.timeout):
                    await self._send(hook, kwargs, seen)
        except discord.HTTPException as exc:
            raise self._error(exc, seen) from None
        except TimeoutError:
            if seen.retry_after is not None:
                raise ChatError("Discord rate limit", code="ratelimited", retry_after=seen.retry_after) from None
            raise ChatError("Discord did not answer in time", code="timeout") from None
        except aiohttp.ClientError as exc:
            raise ChatError(f"Discord unreachable ({type(exc).__name__})", code="connection_error") from None

    async def _send(self, hook: discord.Webhook, kwargs: dict[str, Any], seen: _Seen) -> None:
        """Send; a 429 wait longer than `max_wait` ends the attempt (the outbox retries after it)."""
        sending = asyncio.ensure_future(hook.send(**kwargs))
        too_long = asyncio.ensure_future(seen.too_long.wait())
        try:
            await asyncio.wait({sending, too_long}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            too_long.cancel()
        if not sending.done():
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            raise ChatError("Discord rate limit", code="ratelimited", retry_after=seen.retry_after)
        sending.result()

    def _error(self, exc: discord.HTTPException, seen: _Seen) -> ChatError:
        """The port's error from the status and Discord's error code only (no URL, so no token)."""
        status, code = exc.status, exc.code
        message = f"Discord answered HTTP {status} (code {code})"
        if status == 429:
            return ChatError(message, code="ratelimited", retry_after=seen.retry_after)
        if status >= 500:
            return ChatError(message, code="server_error")
        return ChatRefused(message, code=f"http_{status}")

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        return value
