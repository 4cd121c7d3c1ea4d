"""The one Slack Web API client: slack_sdk AsyncWebClient with retries for 429, 5xx and network errors,
and a scrubber (redaction) that every string argument of every Web API call passes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import FormData
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

# Arguments that are identifiers, never text a person reads: left as they are.
IDENTIFIER_ARGS = frozenset(
    {
        "token",
        "channel",
        "channel_id",
        "ts",
        "thread_ts",
        "timestamp",
        "latest",
        "oldest",
        "cursor",
        "types",
        "user",
        "users",
        "trigger_id",
        "view_id",
        "external_id",
        "hash",
        "action_id",
        "block_id",
        "callback_id",
        "private_metadata",
        "response_url",
    }
)


def scrub_args(value: Any, scrub: Callable[[str], str], key: str | None = None) -> Any:
    """`value` with `scrub` applied to every string in it (dict keys excepted), identifiers left alone."""
    if isinstance(value, str):
        return value if key in IDENTIFIER_ARGS else scrub(value)
    if isinstance(value, dict):
        return {k: scrub_args(v, scrub, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_args(v, scrub, key) for v in value]
    return value


class ScrubbingWebClient(AsyncWebClient):
    """An AsyncWebClient whose every Web API call has its string arguments scrubbed first.

    Everything the bot sends to Slack goes through `api_call` (its own adapter and Bolt's listeners share
    this client), so a new method or field cannot bypass the redaction.
    """

    def __init__(self, *, scrub: Callable[[str], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scrub = scrub

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        """Scrub `data`, `params` and `json`, then call the Web API."""
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=scrub_args(data, self.scrub) if isinstance(data, dict) else data,
            params=scrub_args(params, self.scrub),
            json=scrub_args(json, self.scrub),
            headers=headers,
            auth=auth,
        )


class CountingRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """Waits out 429 Retry-After like slack_sdk's handler, and counts each one."""

    def __init__(self, max_retry_count: int, on_rate_limited: Callable[[str], None] | None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.on_rate_limited = on_rate_limited

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        limited = response is not None and response.status_code == 429
        if limited and self.on_rate_limited is not None:
            self.on_rate_limited(request.url.rsplit("/", 1)[-1])
        return limited


def make_client(
    token: str,
    *,
    base_url: str = "https://slack.com/api/",
    timeout: int = 15,
    rate_limit_retries: int = 2,
    on_rate_limited: Callable[[str], None] | None = None,
    scrub: Callable[[str], str] | None = None,
    **kwargs: Any,
) -> AsyncWebClient:
    """An AsyncWebClient that waits out 429s (Retry-After) and retries 5xx and connection errors once.

    Failures that outlast these retries surface as errors; the outbox then retries later with backoff.
    With `scrub` (the redactor), every string argument of every call passes through it on the way out.
    """
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        CountingRateLimitHandler(rate_limit_retries, on_rate_limited),
        AsyncServerErrorRetryHandler(max_retry_count=1),
    ]
    if not base_url.endswith("/"):
        base_url += "/"
    if scrub is not None:
        return ScrubbingWebClient(
            scrub=scrub, token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers, **kwargs
        )
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers, **kwargs)
