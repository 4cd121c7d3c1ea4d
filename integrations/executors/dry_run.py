"""The `dry_run` executor: runs nothing and says exactly what would run (argv item by item, or the HTTP call)."""

from __future__ import annotations

import json

from bot.domain.execution import DRY_RUN, ExecRequest, ExecResult
from integrations.executors.output import Redact, one_line


def _identity(text: str) -> str:
    return text


class DryRunExecutor:
    """Describes the action instead of running it (the default executor)."""

    name = DRY_RUN

    def __init__(self, redact: Redact = _identity) -> None:
        self._redact = redact

    async def preflight(self, req: ExecRequest) -> None:
        """Nothing can stop a description."""

    async def run(self, req: ExecRequest) -> ExecResult:
        """A result that runs nothing: the output lists exactly what would have run, and with which executor."""
        lines = [f"Dry run ({req.executor} executor not run): nothing was executed.", "Would run:"]
        if req.http is not None:
            lines.append(f"  {req.http.method} {req.http.url}")
            if req.http.json_body is not None:
                lines.append(f"  JSON body: {json.dumps(req.http.json_body, sort_keys=True)}")
        else:
            lines.append(f"  {req.describe()}")
            lines.append("  argv: " + json.dumps(list(req.argv)))
        lines.append(f"  timeout: {req.timeout_seconds:g}s")
        output = self._redact("\n".join(lines))
        summary = one_line(f"dry run, nothing ran: would run {req.describe()}", self._redact)
        return ExecResult(ok=True, exit_code=None, timed_out=False, output=output, duration=0.0, summary=summary,
                          executor=DRY_RUN, dry_run=True)  # fmt: skip
