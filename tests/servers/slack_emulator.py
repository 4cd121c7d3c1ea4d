"""Slack emulator fixtures: a fresh local workspace and a running loopback server for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from integrations.local_workspace import EmulatorServer, Workspace

SLACK_TEST_TOKEN = "xoxb-test-token"
SLACK_TEST_SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
def slack_workspace() -> Workspace:
    """A fresh seeded workspace (token xoxb-test-token, signing secret test-signing-secret, real rates)."""
    return Workspace(token=SLACK_TEST_TOKEN, signing_secret=SLACK_TEST_SIGNING_SECRET, rate_limit_scale=1.0)


@pytest_asyncio.fixture
async def slack_emulator(slack_workspace: Workspace) -> AsyncIterator[EmulatorServer]:
    """The emulator serving `slack_workspace` on 127.0.0.1 (free port); `.api_url` goes to slack_sdk."""
    server = EmulatorServer(slack_workspace)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
