"""The `http` executor: one HTTP request (method, a URL on the allow-list, a JSON body) through the bot's shared
httpx client; the response is read up to a cap, and redirects are not followed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable

import httpx

from bot.domain.execution import ExecRequest, ExecResult, ExecutionRefused, HttpCall
from bot.domain.url_allowlist import UrlPrefix, parse_prefix, refusal
from integrations.executors.output import MARGIN, Redact, capped_output, one_line


class HttpExecutor:
    """Sends `req.http` when its URL is under an allow-listed prefix (see bot.domain.url_allowlist)."""

    name = "http"

    def __init__(
        self, *, client: Callable[[], httpx.AsyncClient], allow: Iterable[str], redact: Redact,
        max_response_bytes: int = 64 * 1024,
    ) -> None:  # fmt: skip
        self._client = client
        self._allow: tuple[UrlPrefix, ...] = tuple(parse_prefix(a) for a in allow)
        self._redact = redact
        self._limit = max_response_bytes

    def call(self, req: ExecRequest) -> HttpCall:
        """The request's HTTP call; ExecutionRefused when there is none or its URL is not allowed."""
        if req.http is None:
            raise ExecutionRefused("refused: the http executor needs an HTTP call ([METHOD, URL, JSON body])")
        if why := refusal(req.http.url, self._allow):
            raise ExecutionRefused(why)
        return req.http

    async def preflight(self, req: ExecRequest) -> None:
        """The URL is allowed."""
        self.call(req)

    async def run(self, req: ExecRequest) -> ExecResult:
        """Send the call; a 2xx answer is ok. A network error or timeout is a failed result, not an exception."""
        call = self.call(req)
        started = time.monotonic()
        kept, dropped, status, error, timed_out = bytearray(), 0, None, "", False
        body = {} if call.json_body is None else {"json": call.json_body}
        try:
            async with asyncio.timeout(req.timeout_seconds):
                async with self._client().stream(call.method, call.url, timeout=req.timeout_seconds, **body) as resp:
                    status = resp.status_code
                    async for chunk in resp.aiter_bytes():
                        room = max(0, self._limit + MARGIN - len(kept))
                        kept += chunk[:room]
                        dropped += len(chunk) - min(room, len(chunk))
        except (TimeoutError, httpx.TimeoutException):
            timed_out = True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return self._result(req, call, status=status, raw=bytes(kept), dropped=dropped, error=error,
                            timed_out=timed_out, duration=time.monotonic() - started)  # fmt: skip

    def _result(
        self, req: ExecRequest, call: HttpCall, *, status: int | None, raw: bytes, dropped: int, error: str,
        timed_out: bool, duration: float,
    ) -> ExecResult:  # fmt: skip
        if timed_out:
            how = f"timed out after {req.timeout_seconds:g}s"
        elif error:
            how = f"failed ({error.splitlines()[0] if error else ''})"
        else:
            how = f"answered {status}"
        output = capped_output(raw, dropped=dropped, limit=self._limit, redact=self._redact)
        if error:
            output = self._redact(error)
        shown_body = "" if call.json_body is None else f" {json.dumps(call.json_body, sort_keys=True)}"
        summary = one_line(f"{how} in {duration:.1f}s: {call.method} {call.url}{shown_body}", self._redact)
        ok = status is not None and 200 <= status < 300 and not timed_out
        return ExecResult(
            ok=ok, exit_code=None, timed_out=timed_out, output=output, duration=duration, summary=summary,
            executor=self.name, http_status=status,
        )  # fmt: skip
