"""Throwaway Prometheus Alertmanager instances for tests, and the pytest fixture that starts them.

An `AlertmanagerServer` runs the real `prometheus-alertmanager` binary (Debian's
`prometheus-alertmanager` package; `make servers` installs it) on a free loopback port, with its config
and storage in a fresh temp dir, gossip off (`--cluster.listen-address=`) and one webhook receiver that
points at the URL under test (RECIPES.md 2). The route sends every alert to that receiver:

    route:     {receiver: warroom, group_by: [service, alertname], group_wait: 0s,
                group_interval: 100ms, repeat_interval: 1h}
    receivers: [{name: warroom, webhook_configs: [{url: <webhook_url>, send_resolved: true,
                 http_config: {authorization: {type: Bearer, credentials: <token>}}}]}]

(`http_config` carries `basic_auth: {username, password}` instead when basic auth is asked for, and is
left out when neither is.) Alertmanager then POSTs webhook v4 bodies to the receiver: about 10 ms
after a new group's first alert with `group_wait: 0s`, and a `resolved` one about `group_interval`
after an alert is re-POSTed with `endsAt` = now (`resolve()`).

Fixture (this module is a pytest plugin, registered in tests/conftest.py):

- `alertmanager_factory` (function): a callable
  `start(webhook_url, *, token=None, basic_auth=None, group_by=None, group_wait="0s",
  group_interval="100ms")` that starts a server, returns it, and stops it after the test. When the
  binary is missing the test is skipped ("run make servers"), or fails when CI=true.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import yaml

HOST = "127.0.0.1"
BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")
BINARY_ENV = "WARROOM_TEST_ALERTMANAGER"  # optional override: the path of the alertmanager binary
MISSING_HELP = "run make servers (installs the Debian `prometheus-alertmanager` package)"
RECEIVER = "warroom"
DEFAULT_GROUP_BY = ("service", "alertname")
READY_POLL = 0.05
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

Alert = dict[str, Any]


class AlertmanagerServerError(RuntimeError):
    """The throwaway Alertmanager could not be configured or started."""


def find_alertmanager() -> Path | None:
    """The Alertmanager binary: $WARROOM_TEST_ALERTMANAGER, else on PATH, else under /usr/bin."""
    override = os.environ.get(BINARY_ENV)
    if override:
        return Path(override) if os.access(override, os.X_OK) else None
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    for name in BINARY_NAMES:
        path = Path("/usr/bin") / name
        if os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds (what the Alertmanager API takes)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alertmanager_config(
    webhook_url: str,
    *,
    token: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    group_by: list[str] | None = None,
    group_wait: str = "0s",
    group_interval: str = "100ms",
    repeat_interval: str = "1h",
) -> dict[str, Any]:
    """The am.yml content: one route to one webhook receiver, with bearer or basic auth (not both)."""
    if token is not None and basic_auth is not None:
        raise ValueError("pass either token or basic_auth, not both")
    webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": True}
    if token is not None:
        webhook["http_config"] = {"authorization": {"type": "Bearer", "credentials": token}}
    elif basic_auth is not None:
        username, password = basic_auth
        webhook["http_config"] = {"basic_auth": {"username": username, "password": password}}
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": list(DEFAULT_GROUP_BY if group_by is None else group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [{"name": RECEIVER, "webhook_configs": [webhook]}],
    }


class AlertmanagerServer:
    """One throwaway Alertmanager on 127.0.0.1 (start, post/resolve/list alerts, stop)."""

    def __init__(
        self,
        webhook_url: str,
        *,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        group_by: list[str] | None = None,
        group_wait: str = "0s",
        group_interval: str = "100ms",
        repeat_interval: str = "1h",
        binary: Path | None = None,
    ) -> None:
        """Configure the server (nothing runs until start()); raises if the binary is missing."""
        found = binary or find_alertmanager()
        if found is None:
            raise AlertmanagerServerError(
                f"Alertmanager binary not found ({' or '.join(BINARY_NAMES)}): {MISSING_HELP}"
            )
        self.binary = found
        self.webhook_url = webhook_url
        self.config = alertmanager_config(
            webhook_url,
            token=token,
            basic_auth=basic_auth,
            group_by=group_by,
            group_wait=group_wait,
            group_interval=group_interval,
            repeat_interval=repeat_interval,
        )
        self.host = HOST
        self.port = 0
        self.dir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:41234 (also passed as --web.external-url)."""
        return f"http://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        """Where am.yml was written."""
        assert self.dir is not None, "not started"
        return self.dir / "am.yml"

    # ---- process control -----------------------------------------------------------------------

    def start(self, attempts: int = 3) -> AlertmanagerServer:
        """Write am.yml in a new temp dir and start Alertmanager on a free port; wait for /-/ready."""
        if self.process is not None:
            return self
        self.dir = Path(tempfile.mkdtemp(prefix="warroom-am-"))
        atexit.register(self.stop)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except AlertmanagerServerError as exc:
                last = str(exc)
                self._terminate()
                if "address already in use" not in last:
                    break
        self.stop()
        raise AlertmanagerServerError(last)

    def _spawn(self) -> None:
        assert self.dir is not None
        argv = [
            str(self.binary),
            f"--config.file={self.config_path}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            "--cluster.listen-address=",
            f"--web.external-url={self.url}",
            "--log.level=warn",
        ]
        if self._log is not None:
            self._log.close()
        self._log = (self.dir / "alertmanager.log").open("ab")
        self.process = subprocess.Popen(argv, cwd=self.dir, stdout=self._log, stderr=subprocess.STDOUT)

    def _wait_ready(self) -> None:
        """Poll GET /-/ready every 50 ms for up to 10 s; fail early if the process exits."""
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code is not None:
                    raise AlertmanagerServerError(f"alertmanager exited with {code}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return
                time.sleep(READY_POLL)
        raise AlertmanagerServerError(f"alertmanager not ready after {READY_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The end of the Alertmanager log, for error messages."""
        if self.dir is None:
            return ""
        with contextlib.suppress(OSError):
            text = (self.dir / "alertmanager.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def _terminate(self) -> None:
        """Stop the process by its PID: SIGTERM, wait, then SIGKILL on timeout."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Stop the server and remove its temp dir (safe to call twice)."""
        self._terminate()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> AlertmanagerServer:
        """Start on entering a `with` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving a `with` block."""
        self.stop()

    # ---- API helpers -----------------------------------------------------------------------------

    @staticmethod
    def resolved(labels: dict[str, str], annotations: dict[str, str] | None = None) -> list[Alert]:
        """The API body that resolves the alert with these labels: the same labels, endsAt = now."""
        alert: Alert = {"labels": dict(labels), "endsAt": now_rfc3339()}
        if annotations is not None:
            alert["annotations"] = dict(annotations)
        return [alert]

    def post_alerts(self, alerts: list[Alert]) -> None:
        """POST /api/v2/alerts (a JSON list of {labels, annotations, startsAt, endsAt, generatorURL})."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10)
        response.raise_for_status()

    async def apost_alerts(self, alerts: list[Alert]) -> None:
        """`post_alerts` for async tests."""
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(f"{self.url}/api/v2/alerts", json=alerts)
            response.raise_for_status()

    def resolve(self, labels: dict[str, str], annotations: dict[str, str] | None = None) -> None:
        """Resolve an alert: re-POST its labels with endsAt = now (a `resolved` webhook follows)."""
        self.post_alerts(self.resolved(labels, annotations))

    async def aresolve(self, labels: dict[str, str], annotations: dict[str, str] | None = None) -> None:
        """`resolve` for async tests."""
        await self.apost_alerts(self.resolved(labels, annotations))

    def alerts(self) -> list[Alert]:
        """GET /api/v2/alerts: the alerts Alertmanager holds (each with fingerprint, status, labels...)."""
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        result: list[Alert] = response.json()
        return result

    async def aalerts(self) -> list[Alert]:
        """`alerts` for async tests."""
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{self.url}/api/v2/alerts")
            response.raise_for_status()
            result: list[Alert] = response.json()
            return result


# ---- pytest plugin --------------------------------------------------------------------------------


class AlertmanagerFactory(Protocol):
    """What `alertmanager_factory` returns."""

    def __call__(
        self,
        webhook_url: str,
        *,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        group_by: list[str] | None = None,
        group_wait: str = "0s",
        group_interval: str = "100ms",
    ) -> AlertmanagerServer: ...


def _unavailable(message: str) -> None:
    """Fail under CI=true (servers are part of the job), else skip with a hint."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def alertmanager_factory() -> Iterator[AlertmanagerFactory]:
    """Start Alertmanagers that post to a given webhook URL; all are stopped after the test."""
    if find_alertmanager() is None:
        where = os.environ.get(BINARY_ENV) or f"{' or '.join(BINARY_NAMES)} on PATH or in /usr/bin"
        _unavailable(f"Alertmanager is not installed (no {where}): {MISSING_HELP}")
    started: list[AlertmanagerServer] = []

    def start(
        webhook_url: str,
        *,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        group_by: list[str] | None = None,
        group_wait: str = "0s",
        group_interval: str = "100ms",
    ) -> AlertmanagerServer:
        server = AlertmanagerServer(
            webhook_url,
            token=token,
            basic_auth=basic_auth,
            group_by=group_by,
            group_wait=group_wait,
            group_interval=group_interval,
        )
        started.append(server)
        try:
            server.start()
        except AlertmanagerServerError as exc:
            pytest.fail(f"could not start the test Alertmanager: {exc}", pytrace=False)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()
