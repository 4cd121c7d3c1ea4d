"""What an executor reports: the output capped and redacted, and the one-line summary."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.execution import ExecRequest, ExecResult

Redact = Callable[[str], str]
MARGIN = 4096
"""Bytes read past the cap: a secret cut in two by the cap is redacted whole, and only then is the tail dropped."""
SUMMARY_MAX = 160


def capped_output(raw: bytes, *, dropped: int, limit: int, redact: Redact) -> str:
    """The output as text: redacted first, then cut to `limit` bytes, with a note of what was cut.

    `raw` holds up to `limit + MARGIN` bytes and `dropped` counts those not kept. When some were dropped, the last
    MARGIN characters (which may end in half a secret the redactor could not recognise) are never shown.
    """
    text = redact(raw.decode("utf-8", errors="replace"))
    if dropped:
        text = text[: max(0, len(text) - MARGIN)]
    encoded = text.encode("utf-8")
    if len(encoded) <= limit and not dropped:
        return text
    shown = encoded[:limit].decode("utf-8", errors="ignore")
    more = len(raw) + dropped - len(shown.encode("utf-8"))
    return f"{shown}\n… [output truncated: about {more} more bytes]"


def one_line(text: str, redact: Redact) -> str:
    """A redacted single line of at most SUMMARY_MAX characters."""
    line = " ".join(redact(text).split())
    return line if len(line) <= SUMMARY_MAX else line[: SUMMARY_MAX - 1] + "…"


def process_result(
    executor: str, req: ExecRequest, *, exit_code: int | None, timed_out: bool, raw: bytes, dropped: int,
    duration: float, limit: int, redact: Redact,
) -> ExecResult:  # fmt: skip
    """The result of a program run: ok on exit 0 in time; the summary says what ran and how it ended."""
    if timed_out:
        how = f"timed out after {req.timeout_seconds:g}s (process group killed)"
    elif exit_code is not None and exit_code < 0:
        how = f"killed by signal {-exit_code}"
    else:
        how = f"exited {exit_code}"
    ok = not timed_out and exit_code == 0
    summary = one_line(f"{how} in {duration:.1f}s: {req.describe()}", redact)
    return ExecResult(
        ok=ok, exit_code=exit_code, timed_out=timed_out, duration=duration, summary=summary, executor=executor,
        output=capped_output(raw, dropped=dropped, limit=limit, redact=redact),
    )  # fmt: skip
