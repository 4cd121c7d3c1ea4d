"""Shared pytest set-up: fixtures for real servers live in tests/servers/.

Property tests run without hypothesis' per-example deadline: CI machines are loaded and shared, and one
slow example (a 365 ms draw on a busy core) is not a failure of the property. Tests that need a time
bound say so with their own `@settings(deadline=...)`.
"""

from hypothesis import settings

settings.register_profile("warroom", deadline=None)
settings.load_profile("warroom")

pytest_plugins = [
    "tests.servers.postgres",
    "tests.servers.slack_emulator",
    "tests.servers.alertmanager",
    "tests.servers.jira_server",
    "tests.servers.discord_server",
    "tests.servers.pagerduty",
    "tests.servers.remediation_api",
]
