"""ChatRoom on Slack: slack_sdk AsyncWebClient with retry handlers and per-tier pacing."""

from integrations.slack_rooms.client import make_client
from integrations.slack_rooms.rooms import SlackChatRoom

__all__ = ["SlackChatRoom", "make_client"]
