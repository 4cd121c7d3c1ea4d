"""`POST /webhooks/cloudwatch`: SNS deliveries in, normalized alerts out (for the HTTP layer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from starlette.requests import Request

from bot.domain.alert import Alert
from handlers.webhooks.cloudwatch import handle_sns
from handlers.webhooks.common import WebhookError
from handlers.webhooks.sns import SnsError, SnsVerifier

Receiver = Callable[[Request, bytes], Awaitable[tuple[list[Alert], str | None, dict[str, Any]]]]


def cloudwatch_receiver(
    *, verifier: SnsVerifier, topics: Collection[str], confirm: Callable[[str], Awaitable[None]]
) -> Receiver:
    """A receiver: verify the SNS message, confirm subscriptions, return the alarm's alerts and MessageId."""

    async def receive(request: Request, body: bytes) -> tuple[list[Alert], str | None, dict[str, Any]]:
        try:
            outcome = await handle_sns(body, request.headers, verifier=verifier, allowed_topics=topics, confirm=confirm)
        except SnsError as exc:
            raise WebhookError(exc.status, exc.code, exc.detail) from None
        if outcome.kind != "notification":
            return [], None, {"sns": outcome.kind, "topic": outcome.topic_arn}
        return outcome.alerts, outcome.message_id, {}

    return receive
