"""The edge of `POST /slack/events` before Bolt: malformed signature headers, Bolt's 401, Bolt's log line.

Bolt verifies the signature itself, but `int()` of a malformed `X-Slack-Request-Timestamp` (`abc`,
`1.5`, 5,000 digits) raises inside slack_sdk and becomes a 500 with an empty body; such requests are
refused here with the same 401 as any other bad signature. Bolt also logs the whole body of a request
that fails verification, at INFO: `UnverifiedBodyFilter` keeps that line but drops the body.
"""

from __future__ import annotations

import logging
import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds, ASCII digits only (int() also takes "١٢" and "1_0")
BAD_SIGNATURE = (
    "the request is not signed with this app's signing secret, or its X-Slack-Request-Timestamp is more than"
    " 5 minutes away"
)


def unauthorized(detail: str = BAD_SIGNATURE) -> JSONResponse:
    """The 401 of a bad, stale or malformed Slack signature."""
    return JSONResponse({"error": "invalid_signature", "detail": detail}, status_code=401)


def check_signature_headers(headers: Headers) -> JSONResponse | None:
    """None when both headers are present and well formed (Bolt then checks the signature), else the 401."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        return unauthorized("X-Slack-Request-Timestamp is missing or not a whole number of seconds")
    if not headers.get(SIGNATURE_HEADER):
        return unauthorized("X-Slack-Signature is missing")
    return None


class UnverifiedBodyFilter(logging.Filter):
    """Drop the body from Bolt's "Invalid request signature detected (..., body: ...)" line.

    Put it on the base logger given to `AsyncApp(logger=...)`: Bolt copies the base logger's filters to the
    loggers it creates, among them the request verification's.
    """

    PREFIX = "Invalid request signature detected"
    _BODY = re.compile(r", body: .*", re.S)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        if message.startswith(self.PREFIX):
            record.msg = self._BODY.sub(", body not logged)", message, count=1)
            record.args = None
        return True
