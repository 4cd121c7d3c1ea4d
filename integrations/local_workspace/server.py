"""Run the emulator with uvicorn on a loopback port, in the current event loop or in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Generator

import uvicorn

from .app import create_app
from .workspace import Workspace

TICK = 0.02


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host (pytest, the bot)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        """Tick every 20 ms instead of 100 ms so that stop() returns quickly."""
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(TICK)


class EmulatorServer:
    """Serve a Workspace over HTTP; port 0 picks a free port, read back from `.url`."""

    def __init__(
        self, workspace: Workspace, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        self.workspace = workspace
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give slack_sdk (`.url + "/api/"`)."""
        return self.url + "/api/"

    def _prepare(self) -> tuple[_QuietServer, socket.socket]:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        # IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted connections (proto 0 adds ~40 ms per reply).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self.workspace.base_url = self.url
        self.workspace.feed.open()
        config = uvicorn.Config(
            create_app(self.workspace),
            log_level=self.log_level,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = _QuietServer(config)
        return self._server, sock

    async def start(self) -> None:
        """Start serving in the running event loop; returns once the port accepts requests."""
        server, sock = self._prepare()
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                self._server = None
                await self._task
                raise RuntimeError("the emulator failed to start")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Release held requests and shut the server down."""
        server, task = self._server, self._task
        if server is None or task is None:
            return
        self.workspace.feed.close()  # live page streams end now, not at the graceful-shutdown timeout
        self.workspace.faults.release_all()
        await self.workspace.close_clients()
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        except TimeoutError:
            server.force_exit = True
            await task
        self._server, self._task = None, None

    def start_in_thread(self, timeout: float = 10.0) -> None:
        """Start serving from a background thread with its own event loop (for sync code or another loop)."""
        server, sock = self._prepare()
        loop = asyncio.new_event_loop()
        self._thread_loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"slack-emulator-{self.port}", daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.005)):
            if server.started or not self._thread.is_alive():
                break
            deadline.wait(0.005)
        if not server.started:
            self.stop_thread()
            raise RuntimeError("the emulator failed to start")

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with start_in_thread()."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.workspace.feed.close()
        self.workspace.faults.release_all()
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server, self._thread, self._thread_loop = None, None, None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __enter__(self) -> EmulatorServer:
        self.start_in_thread()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()
