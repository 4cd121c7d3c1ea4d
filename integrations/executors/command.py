"""The `command` executor: runs a program on its allow-list from an argv list (never a shell)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from bot.domain.execution import ExecRequest, ExecResult, ExecutionRefused
from integrations.executors.output import Redact, process_result
from integrations.executors.process import ProcessLimits, check_argv, resolve_binary, run_process


class CommandExecutor:
    """Runs `argv[0]` when it is on the allow-list: a program name (found on the configured PATH) or an
    absolute path (as it is). Anything else is refused before it runs."""

    name = "command"

    def __init__(self, *, allow: Iterable[str], limits: ProcessLimits, redact: Redact) -> None:
        self._allow = frozenset(allow)
        self._limits = limits
        self._redact = redact

    def binary(self, req: ExecRequest) -> str:
        """The absolute path of the program the request names; ExecutionRefused when it may not or cannot run."""
        check_argv(req.argv)
        program = req.argv[0]
        if program not in self._allow:
            allowed = ", ".join(sorted(self._allow)) or "none"
            raise ExecutionRefused(
                f"refused: {program[:100]!r} is not on the command executor's allow-list ({allowed}); nothing was run"
            )
        found = resolve_binary(program, self._limits.path)
        if found is None:
            where = "" if os.path.isabs(program) else f" on PATH {self._limits.path}"
            raise ExecutionRefused(f"refused: {program!r} is not an executable file{where}; nothing was run")
        return found

    async def preflight(self, req: ExecRequest) -> None:
        """The program is allow-listed and present."""
        self.binary(req)

    async def run(self, req: ExecRequest) -> ExecResult:
        """Run the program with the request's arguments, each one argv item."""
        argv = (self.binary(req), *req.argv[1:])
        done = await run_process(argv, time_limit=req.timeout_seconds, limits=self._limits)
        return process_result(
            self.name, req, exit_code=done.exit_code, timed_out=done.timed_out, raw=done.output,
            dropped=done.dropped, duration=done.duration, limit=self._limits.output_limit, redact=self._redact,
        )  # fmt: skip
