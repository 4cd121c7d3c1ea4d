"""The composition root: build(settings) -> Container. The only package that wires integrations in.

- `builders.py`: `build` from small builders: the core (store, use-case dependencies), reactors, workers, HTTP.
- `chat.py`: the Slack side: credentials (local emulator or real workspace), the client, ChatRoom, Bolt.
- `container.py`: the Container: start, stop, readiness.
- `outbound.py`: Jira and the Discord channels, behind redaction (and the tracker behind its guard).
"""

from bot.bootstrap.builders import alert_policy, build, build_reactors
from bot.bootstrap.container import ALERTMANAGER_PATH, LOCAL_PAGE_PATH, LOCAL_SLACK_PATH, Container, LocalSlack

__all__ = [
    "ALERTMANAGER_PATH", "LOCAL_PAGE_PATH", "LOCAL_SLACK_PATH", "Container", "LocalSlack", "alert_policy", "build",
    "build_reactors",
]  # fmt: skip
