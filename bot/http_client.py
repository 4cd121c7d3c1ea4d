"""The process's one outbound HTTP client (httpx.AsyncClient: one connection pool), owned by the container.

Made when first used, closed when the container stops (and made anew if it starts again), so nothing in the
bot opens a client of its own per request. Redirects are never followed: a URL is fetched as checked.
"""

from __future__ import annotations

import httpx


class SharedHttp:
    """The shared httpx.AsyncClient: `client` for requests, `aclose` at stop."""

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self.made = 0  # how many clients were made (one per run of the container)

    @property
    def client(self) -> httpx.AsyncClient:
        """The client (a new one after `aclose`)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
            self.made += 1
        return self._client

    async def aclose(self) -> None:
        """Close the client and its connections."""
        if self._client is not None:
            await self._client.aclose()
