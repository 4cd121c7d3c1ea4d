"""Shared pytest set-up: fixtures for real servers live in tests/servers/."""

pytest_plugins = [
    "tests.servers.postgres",
    "tests.servers.slack_emulator",
    "tests.servers.alertmanager",
    "tests.servers.jira_server",
    "tests.servers.discord_server",
    "tests.servers.pagerduty",
    "tests.servers.remediation_api",
]
