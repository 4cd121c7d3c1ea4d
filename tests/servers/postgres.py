"""Throwaway PostgreSQL clusters for tests, and the pytest fixtures that use them.

A `PostgresServer` runs `initdb` and `pg_ctl` from the newest `/usr/lib/postgresql/*/bin` (Debian's
`postgresql` package; `make servers` installs it) in a fresh temp dir, on a free loopback port,
with durability off (fsync, synchronous_commit, full_page_writes) for speed. PostgreSQL refuses to
run as root, so as root the binaries run as the `postgres` user through `runuser` (RECIPES.md 1).

Fixtures (this module is a pytest plugin, registered in tests/conftest.py):

- `postgres_server` (session): one cluster per test session (per xdist worker). When the binaries
  are missing the test is skipped ("run `make servers`"), or fails when CI=true.
- `pg_url` (function): a fresh, uniquely named database for each test, as the SQLAlchemy async URL
  `postgresql+psycopg://postgres@127.0.0.1:<port>/<db>`; dropped `WITH (FORCE)` afterwards.

Tests using them get the `postgres` marker automatically (deselect with `-m "not postgres"`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_ROOT = Path("/usr/lib/postgresql")
PG_USER = "postgres"
HOST = "127.0.0.1"
BINDIR_ENV = "WARROOM_TEST_PG_BINDIR"  # optional override: a directory holding initdb and pg_ctl
MISSING_HELP = "run `make servers` (installs the Debian `postgresql` package)"


class PostgresServerError(RuntimeError):
    """The throwaway cluster could not be created, started or stopped."""


def find_pg_bindir() -> Path | None:
    """The newest PostgreSQL bin directory with initdb and pg_ctl (or $WARROOM_TEST_PG_BINDIR)."""
    override = os.environ.get(BINDIR_ENV)
    candidates = [Path(override)] if override else []
    if not override and PG_ROOT.is_dir():

        def version(path: Path) -> tuple[int, ...]:
            return tuple(int(p) for p in re.findall(r"\d+", path.name)) or (0,)

        candidates = [d / "bin" for d in sorted(PG_ROOT.iterdir(), key=version, reverse=True)]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def free_port() -> int:
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pg_sync_url(url: str) -> str:
    """An async SQLAlchemy PostgreSQL URL as a sync one (`postgresql+psycopg://` serves both)."""
    return re.sub(r"^postgresql\+(psycopg_async|asyncpg|psycopg)://", "postgresql+psycopg://", url)


def pg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq URI for `psycopg.connect`."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _traversable_tmp() -> str:
    """The system temp dir if the postgres user can reach it, else /tmp (pytest's tmp is 0700)."""
    base = Path(tempfile.gettempdir()).resolve()
    for part in [base, *base.parents]:
        if not part.stat().st_mode & stat.S_IXOTH:
            return "/tmp"  # world-writable but traversable; the cluster dir itself is created 0755
    return str(base)


class PostgresServer:
    """One throwaway PostgreSQL cluster on 127.0.0.1 (start, create/drop databases, stop)."""

    def __init__(self, bindir: Path | None = None) -> None:
        """Use `bindir` (default: the newest installed PostgreSQL); nothing runs until start()."""
        found = bindir or find_pg_bindir()
        if found is None:
            raise PostgresServerError(f"PostgreSQL binaries not found under {PG_ROOT}/*/bin: {MISSING_HELP}")
        self.bindir = found
        self.host = HOST
        self.port = 0
        self.user = PG_USER
        self.dir: Path | None = None
        self._as_root = os.geteuid() == 0
        self._running = False

    # ---- process control -----------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary (as the postgres user when we are root) in the cluster dir."""
        argv = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            argv = ["runuser", "-u", PG_USER, "--", *argv]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(argv, cwd=self.dir, env=env, capture_output=True, text=True, timeout=timeout, check=False)

    def _log_tail(self, lines: int = 20) -> str:
        """The end of the server log, for error messages."""
        if self.dir is None:
            return ""
        with contextlib.suppress(OSError):
            return "\n".join((self.dir / "pg.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def start(self, attempts: int = 3) -> PostgresServer:
        """Create the cluster in a new temp dir and start it on a free port (retrying port clashes)."""
        if self._running:
            return self
        if self._as_root:
            try:
                owner = pwd.getpwnam(PG_USER)
            except KeyError:
                raise PostgresServerError(f"running as root but there is no `{PG_USER}` user: {MISSING_HELP}") from None
        self.dir = Path(tempfile.mkdtemp(prefix="warroom-pg-", dir=_traversable_tmp() if self._as_root else None))
        self.dir.chmod(0o755)
        if self._as_root:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        atexit.register(self.stop)

        data = str(self.dir / "data")
        init = self._run(
            "initdb", "-D", data, "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--locale=C",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        if init.returncode != 0:
            self.stop()
            raise PostgresServerError(f"initdb failed ({init.returncode}):\n{init.stdout}{init.stderr}")

        last = ""
        for _ in range(attempts):
            self.port = free_port()
            options = (
                f"-c listen_addresses={HOST} -p {self.port} -k {self.dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            started = self._run(
                "pg_ctl", "-D", data, "-l", str(self.dir / "pg.log"), "-w", "-t", "30", "-o", options, "start"
            )
            if started.returncode == 0:
                self._running = True
                return self
            last = f"{started.stdout}{started.stderr}\n{self._log_tail()}"
            if "already in use" not in last and "could not bind" not in last:
                break
        self.stop()
        raise PostgresServerError(f"pg_ctl start failed:\n{last}")

    def stop(self) -> None:
        """Stop the server at once (`-m immediate`: nothing here needs to survive) and remove its dir."""
        if self.dir is None:
            return
        if self._running:
            self._running = False
            result = self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "-t", "30", "stop")
            if result.returncode != 0:  # pragma: no cover - best effort, then kill by pid
                self._kill_postmaster()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        atexit.unregister(self.stop)

    def _kill_postmaster(self) -> None:
        """Fallback stop: SIGKILL the postmaster whose pid is in postmaster.pid."""
        assert self.dir is not None
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.dir / "data" / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 9)
            time.sleep(0.2)

    def __enter__(self) -> PostgresServer:
        """Start on entering a `with` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving a `with` block."""
        self.stop()

    # ---- connections and databases ---------------------------------------------------------------

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string for psycopg."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname} connect_timeout=10"

    def url(self, dbname: str = "postgres") -> str:
        """The SQLAlchemy URL of a database (works with create_async_engine and create_engine)."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> None:
        """CREATE DATABASE `name` (autocommit: CREATE DATABASE cannot run in a transaction)."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name` WITH (FORCE), disconnecting whoever is still connected."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def block_connections(self, name: str) -> int:
        """An outage of one database: refuse new connections and end every open one; how many were ended."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchone()
        return int(ended[0]) if ended else 0

    def allow_connections(self, name: str) -> None:
        """End an outage begun by block_connections."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))


def db_name(url: str) -> str:
    """The database name of a SQLAlchemy or libpq URL."""
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def unique_db_name(hint: str = "") -> str:
    """A fresh database name: `t_<hint>_<random>`, lower-case, at most 63 bytes."""
    slug = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")[:40]
    return f"t_{slug}_{uuid.uuid4().hex[:10]}" if slug else f"t_{uuid.uuid4().hex[:16]}"


# ---- pytest plugin --------------------------------------------------------------------------------


def _unavailable(message: str) -> None:
    """Fail under CI=true (servers are part of the job), else skip with a hint."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session (skipped, or failed under CI, when missing)."""
    if find_pg_bindir() is None:
        where = os.environ.get(BINDIR_ENV) or f"{PG_ROOT}/*/bin"
        _unavailable(f"PostgreSQL is not installed (no initdb and pg_ctl in {where}): {MISSING_HELP}")
    server = PostgresServer()
    try:
        server.start()
    except PostgresServerError as exc:
        pytest.fail(f"could not start the test PostgreSQL server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new empty database for this test, as `postgresql+psycopg://postgres@127.0.0.1:<port>/<db>`."""
    name = unique_db_name(request.node.name)
    postgres_server.create_database(name)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the PostgreSQL fixtures with `postgres`."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
