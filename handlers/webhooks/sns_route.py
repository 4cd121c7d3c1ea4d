"""`POST /webhooks/cloudwatch`: SNS deliveries in (parsed, verified, allow-listed, acted on), normalized alerts out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

from bot.domain.alert import Alert
from handlers.webhooks.cloudwatch import message_to_alerts
from handlers.webhooks.common import WebhookError
from handlers.webhooks.sns import (
    Notification,
    SnsError,
    SubscriptionConfirmation,
    check_subscribe_url,
    check_topic,
    parse_envelope,
)
from handlers.webhooks.sns_signature import SnsVerifier

OutcomeKind = Literal["notification", "subscription_confirmed", "unsubscribed"]


@dataclass(frozen=True)
class SnsOutcome:
    """What a verified delivery amounted to; `message_id` lets the caller drop SNS retries."""

    kind: OutcomeKind
    message_id: str
    topic_arn: str
    alerts: list[Alert] = field(default_factory=list)


async def _confirm(url: str, confirm: Callable[[str], Awaitable[None]]) -> None:
    """Call the confirm hook on a validated SubscribeURL; failures become 503 so SNS retries."""
    check_subscribe_url(url)
    try:
        await confirm(url)
    except Exception as exc:
        raise SnsError("subscription_confirm_failed", f"confirming failed ({type(exc).__name__})", 503) from None


async def handle_sns(
    body: bytes,
    headers: Mapping[str, str],
    *,
    verifier: SnsVerifier,
    allowed_topics: Collection[str],
    confirm: Callable[[str], Awaitable[None]],
) -> SnsOutcome:
    """Parse, verify and allow-list one SNS delivery, then act on it; raises only `SnsError`."""
    message = parse_envelope(body, headers)
    await verifier.verify(message)
    check_topic(message.TopicArn, allowed_topics)
    if isinstance(message, Notification):
        alerts = message_to_alerts(message.Message)
        return SnsOutcome("notification", message.MessageId, message.TopicArn, alerts)
    if isinstance(message, SubscriptionConfirmation):
        await _confirm(message.SubscribeURL, confirm)
        return SnsOutcome("subscription_confirmed", message.MessageId, message.TopicArn)
    return SnsOutcome("unsubscribed", message.MessageId, message.TopicArn)


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
