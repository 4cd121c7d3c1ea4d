"""Running one program for an executor: argv only (never a shell), in a new session (its own process group),
stdin closed, a clean environment, output read up to a cap, and a timeout that ends the whole group.

When the time is up the group gets SIGTERM, then SIGKILL after a grace period; when the program ends in time,
whatever it left running in its group is killed too: a remediation leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.execution import ExecutionRefused
from integrations.executors.output import MARGIN

READ_CHUNK = 64 * 1024
BASE_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


@dataclass(frozen=True, slots=True)
class ProcessLimits:
    """Where and how programs run: the PATH they get (and are found on), extra environment, working directory,
    the output cap in bytes and the grace between SIGTERM and SIGKILL."""

    path: str = "/usr/local/bin:/usr/bin:/bin"
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    output_limit: int = 64 * 1024
    kill_grace: float = 2.0

    def environment(self) -> dict[str, str]:
        """The child's whole environment: nothing of the bot's own."""
        return {**BASE_ENV, **self.env, "PATH": self.path}


@dataclass(frozen=True, slots=True)
class Finished:
    """How a program ended: exit code (negative: killed by that signal), whether its time ran out, the first
    bytes of its output (stdout and stderr together), how many bytes were not kept, and how long it took."""

    exit_code: int | None
    timed_out: bool
    output: bytes
    dropped: int
    duration: float


def resolve_binary(program: str, path: str) -> str | None:
    """The absolute path of an executable: `program` itself when absolute, else found on `path`."""
    if os.path.isabs(program):
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    if "/" in program:
        return None
    return shutil.which(program, path=path)


def check_argv(argv: Sequence[str]) -> None:
    """ExecutionRefused for an argv no program can be given (empty, or an item with a NUL)."""
    if not argv:
        raise ExecutionRefused("refused: the action has an empty argv; nothing was run")
    if any("\x00" in item for item in argv):
        raise ExecutionRefused("refused: an argv item holds a NUL character; nothing was run")


class _Child(asyncio.SubprocessProtocol):
    """One running program: keeps the first `keep` bytes of its output and counts the rest (read and dropped, so
    it never blocks on a full pipe); `exited` when the program ends, `closed` once its output pipe is closed too
    (a process it left behind may hold the pipe open after it ended)."""

    def __init__(self, keep: int) -> None:
        loop = asyncio.get_running_loop()
        self.keep = keep
        self.kept = bytearray()
        self.dropped = 0
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | bytearray) -> None:
        room = max(0, self.keep - len(self.kept))
        self.kept += data[:room]
        self.dropped += len(data) - min(room, len(data))

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _within(seconds: float, future: asyncio.Future[None]) -> None:
    """Wait for the future at most this long (it is left pending otherwise)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await asyncio.shield(future)


async def _end_group(pgid: int, child: _Child, *, timed_out: bool, grace: float) -> None:
    """SIGTERM the group and give the program `grace` seconds (when its time ran out), then SIGKILL whatever is
    left of the group, and give its output pipe `grace` seconds to close."""
    if timed_out:
        _signal_group(pgid, signal.SIGTERM)
        await _within(grace, child.exited)
    _signal_group(pgid, signal.SIGKILL)
    await _within(grace, child.exited)
    await _within(grace, child.closed)


async def run_process(argv: Sequence[str], *, time_limit: float, limits: ProcessLimits) -> Finished:
    """Run argv[0] (an absolute path) with argv[1:] and wait at most `time_limit` seconds; ExecutionRefused when
    it cannot be started. Cancelled, it ends the process group before it lets the cancellation through."""
    check_argv(argv)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        transport, child = await loop.subprocess_exec(
            lambda: _Child(limits.output_limit + MARGIN), *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=limits.environment(), cwd=limits.workdir, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:  # not executable after all, a bad interpreter line, a missing working directory
        why = exc.strerror or str(exc)
        raise ExecutionRefused(f"refused: {argv[0]} could not be started ({why}); nothing ran") from None
    timed_out = False
    try:
        async with asyncio.timeout(time_limit):
            await asyncio.shield(child.exited)
    except TimeoutError:
        timed_out = True
    finally:
        try:
            await _end_group(transport.get_pid(), child, timed_out=timed_out, grace=limits.kill_grace)
        finally:
            transport.close()
    duration = time.monotonic() - started
    return Finished(transport.get_returncode(), timed_out, bytes(child.kept), child.dropped, duration)
