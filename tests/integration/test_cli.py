"""The `warroom` command line, run as a real subprocess."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    return {"WARROOM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "WARROOM_LOG_LEVEL": "WARNING"}


def test_check_config_ok_and_errors(tmp_path, env):
    good = run("check-config", env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = tmp_path / "warroom.yml"
    bad.write_text("sla:\n  SEV9: {ack_minutes: 5}\n")
    out = run("check-config", env={**env, "WARROOM_CONFIG": str(bad)})
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "warroom.yml" in text and "SEV9" in text


def test_check_config_refuses_local_mode_open_to_the_network(env):
    out = run("check-config", env={**env, "WARROOM_HOST": "0.0.0.0"})
    assert out.returncode == 1, out.stdout
    assert "not a loopback address" in out.stdout and "WARROOM_LOCAL_MODE_PUBLIC=true" in out.stdout
    public = {
        **env,
        "WARROOM_HOST": "0.0.0.0",
        "WARROOM_LOCAL_MODE_PUBLIC": "true",
        "WARROOM_ALERT_TOKEN": "tok-123456",
    }
    out = run("check-config", env=public)
    assert out.returncode == 0, out.stdout
    assert "the network (WARROOM_HOST=0.0.0.0" in out.stdout and "loopback clients only" in out.stdout


def _two_notes(tmp_path) -> Path:
    """An incident with two real notes, written through the services in another process: chain #1, #2."""
    db = tmp_path / "cli.db"
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO incidents (ref, title, severity, severity_reason, severity_confirmed, status, declared_by,"
        " declared_at, human_control, services, alertnames, alert_count, updated_at)"
        " VALUES ('INC-20261123-001','t','SEV2','',1,'declared','U1','2026-11-23 09:00:00',0,'[]','[]',0,"
        "'2026-11-23 09:00:00')"
    )
    con.commit()
    con.close()
    # Two real events through the services (the tests then change the database behind the bot's back).
    script = (
        "import asyncio\n"
        "from bot.db.store import Store\n"
        "from bot.services import incidents\n"
        "from bot.services.deps import Deps\n"
        "from bot.clock import SystemClock\n"
        f"s = Store.from_url('sqlite+aiosqlite:///{db}')\n"
        "d = Deps(store=s, clock=SystemClock())\n"
        "async def main():\n"
        "    await incidents.add_note(d, ref='INC-20261123-001', actor='U1', text='first')\n"
        "    await incidents.add_note(d, ref='INC-20261123-001', actor='U1', text='second')\n"
        "    await s.dispose()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)
    return db


def test_migrate_then_audit_verify_detects_tampering(tmp_path, env):
    assert run("migrate", env=env).returncode == 0
    demo = run("demo", "--title", "Audit drill", env={**env, "WARROOM_PORT": str(free_port())})
    assert demo.returncode == 0, demo.stdout + demo.stderr
    ok = run("audit", "verify", env=env)
    # The demo uses its own throwaway database; this one is empty but valid.
    assert ok.returncode == 0 and "audit OK" in ok.stdout
    db = _two_notes(tmp_path)
    assert run("audit", "verify", env=env).returncode == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE timeline_events SET text='forged' WHERE text='first'")
    con.commit()
    con.close()
    bad = run("audit", "verify", env=env)
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout and "INC-20261123-001 #1" in bad.stdout


@pytest.mark.parametrize(
    ("tamper", "named", "why"),
    [
        ("DELETE FROM timeline_events WHERE text='second'", "INC-20261123-001 #2", "newest row(s) were deleted"),
        (
            "UPDATE timeline_events SET id = id + 1000 WHERE text='first'",  # #1 now stored after #2
            "INC-20261123-001 #2",
            "rows were reordered",
        ),
    ],
    ids=["newest row deleted", "rows reordered"],
)
def test_audit_verify_detects_a_deleted_newest_row_and_reordered_rows(tmp_path, env, tamper, named, why):
    assert run("migrate", env=env).returncode == 0
    db = _two_notes(tmp_path)
    assert run("audit", "verify", env=env).returncode == 0
    con = sqlite3.connect(db)
    con.execute(tamper)
    con.commit()
    con.close()
    bad = run("audit", "verify", env=env)
    assert bad.returncode == 1, bad.stdout
    assert "FAILED" in bad.stdout and named in bad.stdout and why in bad.stdout


def test_demo_runs_the_whole_flow_in_local_mode(env):
    out = run("demo", env={**env, "WARROOM_PORT": str(free_port())})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "#inc-" in out.stdout and "checkout-is-failing" in out.stdout
    assert "(pinned)" in out.stdout and "acknowledged the incident" in out.stdout
    assert "#incidents" in out.stdout
