"""Who may use /api/v1: a bearer token when WARROOM_API_TOKEN is set, else loopback clients only.

`RequireApiAuth` is a pure ASGI middleware on the /api/v1 mount, so every route under it is guarded by the
same check, before the route (or the 404/405 of an unknown one) is reached; only the paths it is told are
public (the OpenAPI document) pass without it.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from handlers.errors import error
from handlers.peers import local_request

READ_METHODS = frozenset({"GET"})
"""What `WARROOM_API_PUBLIC_READ=true` leaves open (exactly GET, as DESIGN.md 5 says)."""


@dataclass(frozen=True, slots=True)
class ApiAuth:
    """Bearer token for /api/v1; without one, loopback clients only."""

    token: str | None = None
    public_read: bool = False

    def refusal(self, connection: HTTPConnection, method: str) -> str | None:
        """None when the request may pass, else why not (the 401's detail)."""
        if self.token:
            if self.public_read and method in READ_METHODS:
                return None
            got = connection.headers.get("authorization", "")
            if got.startswith("Bearer ") and hmac.compare_digest(got[7:].encode(), self.token.encode()):
                return None
            return "send Authorization: Bearer <WARROOM_API_TOKEN>"
        why = local_request(connection)
        if why is None:
            return None
        return f"until WARROOM_API_TOKEN is set, the API serves this machine's {why}"


class RequireApiAuth:
    """Refuse (401) every request the `ApiAuth` rules do not let through; pass the others on unchanged.

    `public` are paths relative to the mount (e.g. `/openapi.json`) that anyone may request, any method (so a
    wrong method still gets its 405).
    """

    def __init__(self, app: ASGIApp, *, auth: ApiAuth, public: Collection[str] = ()) -> None:
        self.app = app
        self.auth = auth
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _mounted_path(scope) not in self.public:
            why = self.auth.refusal(HTTPConnection(scope), scope["method"])
            if why is not None:
                await error(401, "unauthorized", why)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _mounted_path(scope: Scope) -> str:
    """The request path below the mount (Starlette keeps the full path and moves the mount into root_path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
