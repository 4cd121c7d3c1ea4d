"""`warroom serve` with no Slack token, as `make run` starts it: local mode, a fresh directory and database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

PAGE_LINE = re.compile(rb"open (http://\S+) in a browser")


def warroom_command() -> list[str]:
    """The `warroom` console script of this environment (what `make run` calls), else `python -m bot.cli`."""
    script = Path(sys.executable).with_name("warroom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


class LocalServe:
    """`warroom serve` in `workdir` (its ./warroom.db is fresh) on a port it picks (WARROOM_PORT=0)."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_", "FORWARDED_"))},
            "WARROOM_PORT": "0",
            **env,
        }
        self.log = workdir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.page_url = ""

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (the page URL without its path)."""
        return self.page_url.split("/local-slack/")[0]

    def launch(self) -> LocalServe:
        """Start the process (the clock of the 60-second promise starts here)."""
        self.started_at = time.monotonic()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*warroom_command(), "serve"], cwd=self.workdir, env=self.env, stdout=out, stderr=out
            )
        return self

    def wait_for_page(self, timeout: float = 60) -> str:
        """The page URL the process prints once it listens; AssertionError if it dies or never prints it."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = PAGE_LINE.search(self.log.read_bytes())
            if found:
                self.page_url = found.group(1).decode()
                return self.page_url
            assert self.proc.poll() is None, self.log_text()
            time.sleep(0.02)
        raise AssertionError(f"warroom serve printed no page URL in {timeout}s:\n{self.log_text()}")

    def start(self) -> LocalServe:
        self.launch()
        self.wait_for_page()
        return self

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM and wait; returns the exit code (SIGKILL, and AssertionError, if it does not stop)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(f"warroom serve did not stop in {timeout}s:\n{self.log_text()}") from None
        return self.proc.returncode
