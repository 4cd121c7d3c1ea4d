"""End-to-end fixtures: the real bot against the Slack emulator."""

from __future__ import annotations

import pytest_asyncio

from bot.config import parse_config
from tests.e2e.harness import bot_settings, start_bot

CONFIG = """
oncall:
  users: [U0BOB]
channels:
  announcements: incidents
grouping:
  card_refresh_seconds: 0.2
"""


@pytest_asyncio.fixture
async def bot(tmp_path, slack_workspace, slack_emulator):
    slack_workspace.rate_limit_scale = None  # the rate-limit test sets its own faults
    settings = bot_settings(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", slack_emulator.api_url)
    running = await start_bot(settings, slack_workspace, parse_config(CONFIG))
    yield running
    await running.stop()
