"""Debian's Chromium, headless, driven by Playwright (`executable_path`: no browser is ever downloaded).

`make servers` installs the `chromium` package. When it is missing the browser tests are skipped with a hint,
or fail under CI=true: there the browser is part of the job.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".artifacts"
MISSING_HELP = "run `make servers` (installs the Debian `chromium` package)"
# Flags of a headless Chromium on a machine with no network but loopback (RECIPES.md 5, the env notes).
ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
]


def _unavailable(message: str) -> None:
    """Fail under CI=true (the browser is part of the job), else skip with a hint."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


EXPECT_TIMEOUT_MS = 20_000


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's sync Browser); closed on exit."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium is not installed ({CHROMIUM} not found): {MISSING_HELP}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: run `make install`")
    # Assertions wait as long as actions do: 5 s (Playwright's default) was too short for a slash command's
    # round trip to a loaded bot (a modal missed it once in a CI-like run). A failure still fails, later.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageErrors:
    """Console errors, uncaught exceptions and failed requests of a page (a CSP violation is a console error)."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("console", lambda m: self.seen.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.seen.append(f"uncaught: {e}"))

    def assert_none(self, allowed: Callable[[str], bool] = lambda _: False) -> None:
        unexpected = [s for s in self.seen if not allowed(s)]
        assert unexpected == [], unexpected


def save_artifact(source: Path, name: str) -> Path:
    """Copy a file the test made (a screenshot) to .artifacts/<name> (gitignored) and return that path."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    shutil.copyfile(source, target)
    return target
