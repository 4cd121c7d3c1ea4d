"""The one Slack Web API client: slack_sdk AsyncWebClient with retries for 429, 5xx and network errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    **kwargs: Any,
) -> AsyncWebClient:
    """An AsyncWebClient that waits out 429s (Retry-After) and retries 5xx and connection errors once.

    Failures that outlast these retries surface as errors; the outbox then retries later with backoff.
    """
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        CountingRateLimitHandler(rate_limit_retries, on_rate_limited),
        AsyncServerErrorRetryHandler(max_retry_count=1),
    ]
    if not base_url.endswith("/"):
        base_url += "/"
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers, **kwargs)
