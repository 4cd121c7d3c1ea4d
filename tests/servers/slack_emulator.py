"""Slack emulator fixtures: a fresh local workspace and a running loopback server for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from integrations.local_workspace import EmulatorServer, Workspace

SLACK_TEST_TOKEN = "xoxb-test-token"
SLACK_TEST_SIGNING_SECRET = "test-signing-secret"
SLACK_TEST_APP_TOKEN = "xapp-1-A0LOCAL-1-test-app-token"


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


@pytest.fixture
def socket_workspace() -> Workspace:
    """A fresh workspace in Socket Mode: app-level token xapp-1-A0LOCAL-1-test-app-token, no rate limits."""
    return Workspace(
        token=SLACK_TEST_TOKEN,
        signing_secret=SLACK_TEST_SIGNING_SECRET,
        app_token=SLACK_TEST_APP_TOKEN,
        rate_limit_scale=None,
    )


@pytest_asyncio.fixture
async def socket_emulator(socket_workspace: Workspace) -> AsyncIterator[EmulatorServer]:
    """The emulator serving `socket_workspace`; its apps.connections.open hands out ws://127.0.0.1 URLs."""
    server = EmulatorServer(socket_workspace)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
