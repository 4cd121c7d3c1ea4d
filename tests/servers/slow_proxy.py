"""A loopback HTTP proxy that holds back the requests whose URL contains a marker (a slow store, for timeouts).

Everything else is forwarded at once to the upstream (a real Prometheus). Held requests wait until `stop()`
(or `hold_seconds`), so a test never sleeps: the client's own timeout is what ends them.
"""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SlowProxy:
    """`SlowProxy(upstream, markers).start()`; `.url`; `.held` counts held requests; `.stop()`."""

    def __init__(self, upstream: str, markers: tuple[str, ...], hold_seconds: float = 30.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.markers = markers
        self.hold_seconds = hold_seconds
        self.release = threading.Event()
        self.held = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SlowProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                decoded = urllib.parse.unquote_plus(self.path)
                if any(m in decoded for m in proxy.markers):
                    with proxy._lock:
                        proxy.held += 1
                    proxy.release.wait(proxy.hold_seconds)
                try:
                    with urllib.request.urlopen(proxy.upstream + self.path, timeout=30) as answer:
                        body, status = answer.read(), answer.status
                except urllib.error.HTTPError as exc:
                    body, status = exc.read(), exc.code
                except OSError:
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (its timeout): fine

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
