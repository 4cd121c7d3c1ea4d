"""Processes starting together: both migrate and come up on an empty PostgreSQL database; a second
process on one SQLite file is refused with a clear message."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.processes import ServeProcess, serve_env
from tests.servers.postgres import unique_db_name

pytestmark = pytest.mark.slow
TRIES = 5


@pytest.mark.postgres
async def test_two_processes_started_together_on_an_empty_postgres_both_come_up(postgres_server, tmp_path):
    for attempt in range(TRIES):
        name = unique_db_name(f"together_{attempt}")
        postgres_server.create_database(name)
        procs = [
            ServeProcess(serve_env(postgres_server.url(name)), tmp_path / f"try{attempt}-{i}.log") for i in range(2)
        ]
        try:
            for p in procs:
                p.start()
            await asyncio.gather(*(p.wait_ready(timeout=60) for p in procs))
        finally:
            for p in procs:
                p.stop()
            postgres_server.drop_database(name)
        logs = "".join(p.output() for p in procs)
        assert "Traceback" not in logs, f"try {attempt + 1}:\n{logs}"


async def test_a_second_process_on_one_sqlite_file_is_refused_clearly(tmp_path):
    env = serve_env(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    first = ServeProcess(env, tmp_path / "first.log").start()
    second = ServeProcess(env, tmp_path / "second.log")
    try:
        await first.wait_ready()
        second.start()
        assert await second.wait_exit() == 1
        assert "in use by another warroom process" in second.output()
        assert f"pid {first.pid}" in second.output()
        assert "PostgreSQL" in second.output() and "Traceback" not in second.output()
        migrate = await asyncio.create_subprocess_exec(
            *second.proc.args[:3], "migrate", env=env, cwd=str(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await migrate.communicate()
        assert migrate.returncode == 1 and b"in use by another warroom process" in err
        await first.wait_ready(timeout=5)  # the first one was left alone
    finally:
        second.stop()
        first.stop()
    after = ServeProcess(env, tmp_path / "after.log").start()  # the lock went with the process
    try:
        await after.wait_ready()
    finally:
        after.stop()
