"""Throwaway Prometheus servers holding backfilled history, for tests of the diagnostics.

`PrometheusServer(openmetrics_text)` writes the text to a temp dir, turns it into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics` (RECIPES.md 3: timestamps in seconds, `# EOF` at the end),
and runs the real `prometheus` binary (Debian's `prometheus` package; `make servers` installs it) on a free
loopback port over those blocks, with nothing to scrape and a 100-year retention (the history is in the
past: queries pass their own `time`). `require_prometheus()` skips a test when the binaries are missing, or
fails it under CI=true.
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
from pathlib import Path

import httpx
import pytest

HOST = "127.0.0.1"
READY_TIMEOUT = 20.0
MISSING_HELP = "run make servers (installs Debian's `prometheus`, which ships promtool)"


class PrometheusServerError(RuntimeError):
    """The throwaway Prometheus could not be built or started."""


def find_binaries() -> tuple[str, str] | None:
    """(prometheus, promtool) from $WARROOM_TEST_PROMETHEUS / $WARROOM_PROMTOOL or PATH."""
    prometheus = os.environ.get("WARROOM_TEST_PROMETHEUS") or shutil.which("prometheus")
    promtool = os.environ.get("WARROOM_PROMTOOL") or shutil.which("promtool")
    if prometheus and promtool and os.access(prometheus, os.X_OK) and os.access(promtool, os.X_OK):
        return prometheus, promtool
    return None


def require_prometheus() -> tuple[str, str]:
    """The binaries, or skip (fail under CI=true) with a hint."""
    found = find_binaries()
    if found is None:
        message = f"Prometheus/promtool not installed: {MISSING_HELP}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class PrometheusServer:
    """One Prometheus on 127.0.0.1 over backfilled blocks."""

    def __init__(self, openmetrics: str) -> None:
        found = find_binaries()
        if found is None:
            raise PrometheusServerError(MISSING_HELP)
        self.prometheus, self.promtool = found
        self.openmetrics = openmetrics
        self.dir: Path | None = None
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.backfill_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> PrometheusServer:
        self.dir = Path(tempfile.mkdtemp(prefix="warroom-prom-"))
        atexit.register(self.stop)
        source = self.dir / "history.om"
        source.write_text(self.openmetrics)
        data = self.dir / "data"
        began = time.monotonic()
        done = subprocess.run(
            [self.promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.dir,
        )
        self.backfill_seconds = time.monotonic() - began
        if done.returncode != 0:
            self.stop()
            raise PrometheusServerError(f"promtool backfill failed: {done.stderr.strip()[-2000:]}")
        source.unlink()
        (self.dir / "prometheus.yml").write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
        for _ in range(3):
            self.port = free_port()
            log = (self.dir / "prometheus.log").open("ab")
            self.process = subprocess.Popen(
                [
                    self.prometheus,
                    f"--config.file={self.dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={data}",
                    f"--web.listen-address={HOST}:{self.port}",
                    "--storage.tsdb.retention.time=100y",
                    "--log.level=warn",
                ],
                cwd=self.dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
            try:
                self._wait_ready()
                return self
            except PrometheusServerError as exc:
                self._terminate()
                if "address already in use" not in str(exc):
                    self.stop()
                    raise
        self.stop()
        raise PrometheusServerError("no free port")

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise PrometheusServerError(f"prometheus exited: {self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return
                time.sleep(0.05)
        raise PrometheusServerError(f"prometheus not ready: {self.log_tail()}")

    def log_tail(self) -> str:
        if self.dir is None:
            return ""
        with contextlib.suppress(OSError):
            return "\n".join((self.dir / "prometheus.log").read_text(errors="replace").splitlines()[-10:])
        return ""

    def _terminate(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def stop(self) -> None:
        self._terminate()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        atexit.unregister(self.stop)
