"""The error a Web API method raises to answer `{"ok": false, "error": code}`."""

from __future__ import annotations


class ApiError(Exception):
    """A Slack error reply: `code` is Slack's machine code, `messages` go to response_metadata."""

    def __init__(self, code: str, *messages: str, status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.messages = list(messages)
        self.status = status
