"""The error answer of every HTTP route (DESIGN.md 5): `{"error": "<machine code>", "detail": "<sentence>"}`."""

from __future__ import annotations

from starlette.responses import JSONResponse


def error(status: int, code: str, detail: str) -> JSONResponse:
    """The error body of DESIGN.md 5 with its status."""
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


class HttpError(Exception):
    """A refused request: HTTP status, machine code, human detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail

    def response(self) -> JSONResponse:
        """The JSON error body of DESIGN.md 5."""
        return error(self.status, self.code, self.detail)
