"""`warroom digest` as a real subprocess: --dry-run prints the hand-computed figures and posts nothing; a real
post goes to the Slack workspace (here the emulator) once, however many times it is run; bad input is refused."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.services.deps import Deps
from tests.digest_scenario import EXPECTED_FIGURES, play
from tests.servers.slack_emulator import SLACK_TEST_SIGNING_SECRET, SLACK_TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_", "DISCORD_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env={**base, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def env(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await asyncio.to_thread(upgrade, url)
    store = Store.from_url(url)
    clock = ManualClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    await play(Deps(store=store, clock=clock), clock)
    await store.dispose()
    config = tmp_path / "warroom.yml"
    config.write_text('reports:\n  digest:\n    time: "23:00"\n    timezone: UTC\n    chart: false\n')
    return {"WARROOM_DATABASE_URL": url, "WARROOM_CONFIG": str(config), "WARROOM_LOG_LEVEL": "WARNING"}


async def test_dry_run_prints_the_figures_and_posts_nothing(env):
    code, out, err = await run("digest", "--date", "2026-11-23", "--dry-run", env=env)
    assert code == 0, err
    assert out.startswith("Daily incident digest — 2026-11-23\n2026-11-22 23:00 to 2026-11-23 23:00 UTC")
    for label, (value, trend) in EXPECTED_FIGURES.items():
        assert f"{label}: {value}  [{trend}]" in out
    assert "Open incidents (2):" in out and "Overdue action items (1):" in out


async def test_bad_input_is_refused_with_a_clear_error(env):
    code, _, err = await run("digest", "--date", "23/11/2026", "--dry-run", env=env)
    assert code == 2 and "'23/11/2026' is not a date (YYYY-MM-DD)" in err
    code, _, err = await run("digest", "--date", "2026-11-23", env=env)  # local mode: no Slack to post to
    assert code == 2 and "use --dry-run" in err


async def test_posted_once_to_slack_however_often_it_runs(env, slack_emulator, slack_workspace):
    slack = {"SLACK_BOT_TOKEN": SLACK_TEST_TOKEN, "SLACK_SIGNING_SECRET": SLACK_TEST_SIGNING_SECRET,
             "SLACK_API_URL": slack_emulator.api_url}  # fmt: skip
    for _ in range(2):
        code, out, err = await run("digest", "--date", "2026-11-23", env={**env, **slack})
        assert code == 0, err
        assert "posted the digest of 2026-11-23" in out
    channel = slack_workspace.channel_by_name("incidents")
    digests = [m for m in slack_workspace.messages(channel.id) if "digest:2026-11-23" in str(m.blocks)]
    assert len(digests) == 1
