"""Pager on PagerDuty's Events API v2 (`POST /v2/enqueue`), through the bot's shared httpx client.

Answers: 202 accepted; 429 (rate limited) and 5xx are transient (PagerError, with Retry-After when given:
the outbox retries with backoff); 400 (invalid event) and the other 4xx are permanent (PagerRefused, which
dead-letters the delivery with PagerDuty's reason). Routing keys are secrets: they are only ever put in the
request body, never in an error, a log line or the URL. Answers are read up to a size cap.

Everything an event carries passes `redact` once more (the pager's last line; the paging reactor redacts the
page first): the summary, component and custom details, keys and values. Only the routing key (a configured
secret the redactor knows, so it would be blanked) and the dedup key (the bot's own) are sent as they are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.domain.paging import Page, PageAction
from bot.domain.ports import PagerError, PagerRefused
from bot.redact import redact_json

log = logging.getLogger("warroom.pagerduty")
DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
ANSWER_MAX = 64 * 1024  # bytes of an answer read at most
REASON_MAX = 500
CLIENT = "warroom"


def event_body(page: Page, routing_key: str, redact: Callable[[str], str] = lambda s: s) -> dict[str, Any]:
    """The Events API v2 body of a page, its payload redacted (not the routing key nor the dedup key)."""
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": page.action.value, "dedup_key": page.dedup_key}
    if page.action is PageAction.TRIGGER:
        payload: dict[str, Any] = {
            "summary": page.summary or page.dedup_key,
            "source": CLIENT,
            "severity": page.urgency,
            "custom_details": page.details,
        }
        if page.component:
            payload["component"] = page.component
        body["payload"] = redact_json(payload, redact)
        body["client"] = CLIENT
    return body


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PagerDutyPager:
    """Sends pages to PagerDuty services by name: `oncall` is PAGERDUTY_ROUTING_KEY's, others come from the
    rules file (each with the environment variable that holds its key)."""

    def __init__(
        self, *, routing_keys: Mapping[str, str], client: Callable[[], httpx.AsyncClient], url: str = DEFAULT_URL,
        timeout: float = 10.0, redact: Callable[[str], str] = lambda s: s,
    ) -> None:  # fmt: skip
        self._keys = {name: key for name, key in routing_keys.items() if key}
        self._client = client
        self.url = url
        self.timeout = timeout
        self.redact = redact

    def serves(self, service: str) -> bool:
        """Whether a routing key is configured for the service."""
        return service in self._keys

    async def send(self, page: Page) -> None:
        """POST one event; raise PagerError (retry) or PagerRefused (permanent) unless PagerDuty took it."""
        key = self._keys.get(page.service)
        if key is None:
            raise PagerRefused(f"no routing key configured for PagerDuty service {page.service!r}")
        body = json.dumps(event_body(page, key, self.redact)).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            async with self._client().stream(
                "POST", self.url, content=body, headers=headers, timeout=self.timeout
            ) as resp:
                answer = await _read_capped(resp)
                status, retry_after = resp.status_code, resp.headers.get("Retry-After")
        except httpx.TimeoutException:
            raise PagerError("PagerDuty did not answer in time") from None
        except httpx.HTTPError as exc:
            raise PagerError(f"cannot reach PagerDuty: {type(exc).__name__}") from None
        self._judge(page, status, answer, retry_after)

    def _judge(self, page: Page, status: int, answer: bytes, retry_after: str | None) -> None:
        what = f"{page.action.value} {page.dedup_key} ({page.service})"
        if status == 202 or 200 <= status < 300:
            log.info("PagerDuty accepted %s", what)
            return
        reason = self._scrub(_reason(answer))
        if status == 429 or status >= 500:
            log.warning("PagerDuty answered %s to %s: will retry", status, what)
            raise PagerError(f"PagerDuty answered {status}: {reason}", retry_after=_retry_after(retry_after))
        log.error("PagerDuty refused %s with %s: %s", what, status, reason)
        raise PagerRefused(f"PagerDuty answered {status}: {reason}")

    def _scrub(self, text: str) -> str:
        """An answer never carries a routing key out of here (PagerDuty may quote the field back)."""
        for key in self._keys.values():
            text = text.replace(key, "[routing key]")
        return text


async def _read_capped(resp: httpx.Response) -> bytes:
    """The answer's first ANSWER_MAX bytes (the rest is not read)."""
    out = bytearray()
    async for chunk in resp.aiter_bytes():
        out += chunk[: ANSWER_MAX - len(out)]
        if len(out) >= ANSWER_MAX:
            break
    return bytes(out)


def _reason(answer: bytes) -> str:
    """PagerDuty's `status`/`message`/`errors` of an answer, or the start of its text."""
    try:
        data = json.loads(answer)
    except ValueError:
        return answer[:REASON_MAX].decode("utf-8", "replace") or "(no answer body)"
    if not isinstance(data, dict):
        return str(data)[:REASON_MAX]
    parts = [str(data.get(k)) for k in ("status", "message") if data.get(k)]
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts.append("; ".join(str(e) for e in errors))
    return (": ".join(parts) or answer[:REASON_MAX].decode("utf-8", "replace"))[:REASON_MAX]
