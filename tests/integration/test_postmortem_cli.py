"""`warroom postmortem INC-…`, run as a real subprocess against a migrated SQLite file: the draft printed or
written to a file, redacted; an unknown reference is a clear error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.clock import ManualClock
from bot.db.store import Store
from bot.domain.incident import Severity
from bot.services import incidents
from bot.services.deps import Deps
from tests.integration.test_cli import run

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def an_incident(url: str) -> str:
    store = Store.from_url(url)
    clock = ManualClock(T0)
    deps = Deps(store=store, clock=clock)
    try:
        title = "Checkout errors for dave@example.com"
        ref = (await incidents.declare(deps, title=title, severity=Severity.SEV2, actor="U0ALICE")).incident.ref
        clock.advance(minutes=2)
        await incidents.acknowledge(deps, ref=ref, actor="U0BOB")
        clock.advance(minutes=58, seconds=30)
        await incidents.resolve(deps, ref=ref, actor="U0BOB", summary="failed over")
        return ref
    finally:
        await store.dispose()


def test_postmortem_prints_or_writes_the_draft(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = {"WARROOM_DATABASE_URL": url, "WARROOM_LOG_LEVEL": "WARNING"}
    assert run("migrate", env=env).returncode == 0
    ref = asyncio.run(an_incident(url))
    out = run("postmortem", ref.lower(), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"# Post-mortem {ref}: Checkout errors for \\[redacted-email\\]")
    assert "| MTTA | 2m 00s |" in out.stdout and "| MTTR | 1h 00m 30s |" in out.stdout
    assert "dave@" not in out.stdout + out.stderr
    target = tmp_path / "pm.md"
    written = run("postmortem", ref, "--output", str(target), env=env)
    assert written.returncode == 0 and written.stdout == "" and str(target) in written.stderr

    def body(text):  # all but the line that says when it was generated
        return [line for line in text.splitlines() if not line.startswith("_Draft v")]

    assert body(target.read_text(encoding="utf-8")) == body(out.stdout)
    missing = run("postmortem", "INC-20000101-999", env=env)
    assert missing.returncode == 1 and "no incident INC-20000101-999" in missing.stderr
