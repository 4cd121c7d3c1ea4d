"""The remediation executor port: what to run (`ExecRequest`), what came of it (`ExecResult`), the `Executor`
protocol the adapters in `integrations/executors/` implement, and the registry that finds one by name.

Contract of every executor:
- `preflight(req)` checks what can be checked without running anything (binary on the allow-list and present,
  URL on the allow-list, ...) and raises ExecutionRefused with a sentence for people when the action cannot run.
- `run(req)` runs the preflight itself first (so a refused action never starts), then the action: argv lists
  only, never a shell. A command that ran and failed, or timed out, is an `ExecResult` with `ok=False`, not an
  exception. Its `output` is already capped and redacted, fit to post in the card's thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.domain.argv_values import (
    VALUE_PATTERNS,
    ExecutionRefused,
    ValuePattern,
    check_value,
    render_argv,
    shown,
)

__all__ = [
    "DRY_RUN",
    "HTTP_METHODS",
    "VALUE_PATTERNS",
    "ExecRequest",
    "ExecResult",
    "ExecutionRefused",
    "Executor",
    "ExecutorRegistry",
    "HttpCall",
    "ValuePattern",
    "build_request",
    "check_value",
    "http_call_from_argv",
    "render_argv",
]

DRY_RUN = "dry_run"
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
HTTP_METHODS: tuple[HttpMethod, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class HttpCall:
    """An HTTP request of the http executor: method, URL (checked against its allow-list), optional JSON body."""

    method: HttpMethod
    url: str
    json_body: Any = None  # a JSON value (dict, list, str, number, bool) or None for no body


@dataclass(frozen=True, slots=True)
class ExecRequest:
    """One action to execute: which executor, the rendered argv (for http: METHOD, URL[, JSON]), the limits."""

    action_id: str
    executor: str
    argv: tuple[str, ...]
    http: HttpCall | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT

    def describe(self) -> str:
        """The exact action in one line: the argv items quoted where needed (`kubectl rollout undo ...`)."""
        return " ".join(_quoted(a) for a in self.argv)


def _quoted(item: str) -> str:
    """An argv item as a reader can tell its bounds (POSIX-shell style quoting, display only)."""
    if item and all(c.isalnum() or c in "@%+=:,./-_" for c in item):
        return item
    return "'" + item.replace("'", "'\"'\"'") + "'"


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What came of an action: `ok` (exit 0 / HTTP 2xx), the exit code or HTTP status, whether it timed out,
    the output (capped and redacted), the duration in seconds and a one-line summary for people."""

    ok: bool
    exit_code: int | None
    timed_out: bool
    output: str
    duration: float
    summary: str
    executor: str = DRY_RUN
    dry_run: bool = False  # nothing ran: the output says what would have
    http_status: int | None = None


class Executor(Protocol):
    """Runs remediation actions (implemented in integrations/executors/)."""

    @property
    def name(self) -> str:
        """`dry_run`, `command`, `kubectl` or `http`."""
        ...

    async def preflight(self, req: ExecRequest) -> None:
        """Raise ExecutionRefused when the action cannot run; runs nothing."""
        ...

    async def run(self, req: ExecRequest) -> ExecResult:
        """Preflight, then run the action (ExecutionRefused before anything ran)."""
        ...


@dataclass(slots=True)
class ExecutorRegistry:
    """The configured executors by name. `dry_run` is always there; `resolve` falls back to it for a step whose
    executor is not enabled when `fallback_to_dry_run` (the default), and refuses otherwise."""

    executors: dict[str, Executor] = field(default_factory=dict)
    fallback_to_dry_run: bool = True

    def __post_init__(self) -> None:
        if DRY_RUN not in self.executors:
            raise ValueError("the registry needs a dry_run executor")

    @classmethod
    def of(cls, executors: Iterable[Executor], *, fallback_to_dry_run: bool = True) -> ExecutorRegistry:
        """A registry of these executors, by their names."""
        return cls({e.name: e for e in executors}, fallback_to_dry_run=fallback_to_dry_run)

    @property
    def names(self) -> tuple[str, ...]:
        """The enabled executors' names, sorted."""
        return tuple(sorted(self.executors))

    def get(self, name: str) -> Executor:
        """The executor of this name; ExecutionRefused when it is not enabled."""
        try:
            return self.executors[name]
        except KeyError:
            enabled = ", ".join(self.names)
            raise ExecutionRefused(f"refused: the {name} executor is not enabled (enabled: {enabled})") from None

    def resolve(self, name: str) -> Executor:
        """The executor to use for a step of executor `name`: itself, else dry_run (when falling back)."""
        if name in self.executors or not self.fallback_to_dry_run:
            return self.get(name)
        return self.executors[DRY_RUN]

    async def run(self, req: ExecRequest) -> ExecResult:
        """Run the request with `resolve(req.executor)`."""
        return await self.resolve(req.executor).run(req)


def http_call_from_argv(argv: Sequence[str]) -> HttpCall:
    """An http step's argv, `[METHOD, URL]` or `[METHOD, URL, JSON body]`, as an HttpCall; ExecutionRefused
    when it is not that shape (unknown method, not an http(s) URL, body not JSON)."""
    if not 2 <= len(argv) <= 3:
        raise ExecutionRefused("refused: an http step's argv is [METHOD, URL] or [METHOD, URL, JSON body]")
    method, url = argv[0].upper(), argv[1]
    if method not in HTTP_METHODS:
        raise ExecutionRefused(f"refused: HTTP method {shown(argv[0])} is not one of {', '.join(HTTP_METHODS)}")
    if not url.startswith(("http://", "https://")) or any(c.isspace() or ord(c) < 32 for c in url):
        raise ExecutionRefused(f"refused: {shown(url)} is not an http(s) URL")
    body: Any = None
    if len(argv) == 3:
        try:
            body = json.loads(argv[2])
        except ValueError:
            raise ExecutionRefused(f"refused: the body {shown(argv[2])} is not JSON") from None
    return HttpCall(method=method, url=url, json_body=body)  # type: ignore[arg-type]  # checked above


def build_request(
    *,
    action_id: str,
    executor: str,
    template: Sequence[str],
    values: Mapping[str, str],
    timeout_seconds: float = DEFAULT_TIMEOUT,
    patterns: Mapping[str, ValuePattern] | None = None,
) -> ExecRequest:
    """The request of a runbook step (`executor`, argv `template`) with this incident's placeholder `values`:
    every value checked (render_argv), an http step's argv read into its HttpCall. ExecutionRefused otherwise."""
    if timeout_seconds <= 0:
        raise ExecutionRefused("refused: the timeout must be positive")
    argv = render_argv(template, values, patterns=patterns)
    http = http_call_from_argv(argv) if executor == "http" else None
    return ExecRequest(action_id=action_id, executor=executor, argv=argv, http=http, timeout_seconds=timeout_seconds)
