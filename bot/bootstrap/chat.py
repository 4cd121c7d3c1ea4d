"""The Slack side of the composition root: credentials (the local emulator's or the real workspace's), the
one Web API client, the redacting ChatRoom, and the Bolt app with its listeners."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap.container import ALERTMANAGER_PATH, LOCAL_SLACK_PATH, LocalSlack
from bot.config import Settings
from bot.domain.ports import ChatRoom, Clock, GroupDirectory
from bot.domain.text import visible
from bot.redact import RedactingChatRoom, Redactor
from bot.sample_alert import sample_alerts
from bot.services.deps import Deps
from bot.services.stats import Telemetry
from handlers import slack as slack_handlers
from handlers.slack.signature import UnverifiedBodyFilter
from handlers.slack.socket_mode import SocketModeLink
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.pacing import Pacer


@dataclass(slots=True)
class SlackSide:
    """Where Slack is and how the bot talks to it."""

    client: AsyncWebClient
    chat: ChatRoom
    signing_secret: str
    local: LocalSlack | None
    groups: GroupDirectory | None = None  # who is in a user group (approvers), on the same client


@dataclass(slots=True)
class SlackApp:
    """Bolt, its request handler for /slack/events, and Socket Mode when configured."""

    bolt: AsyncApp
    handler: AsyncSlackRequestHandler
    socket: SocketModeLink | None


def local_slack(settings: Settings, redactor: Redactor, clock: Clock) -> tuple[LocalSlack, str, str, str]:
    """Local mode: the built-in emulator with a fresh token and signing secret; (emulator, token, secret, API)."""
    from integrations.local_workspace import SampleAlert, Workspace
    from integrations.local_workspace import create_app as create_emulator

    base = f"http://{settings.host}:{settings.port}"
    token = f"xoxb-local-{secrets.token_hex(8)}"
    signing_secret = secrets.token_hex(16)
    workspace = Workspace(
        token=token,
        signing_secret=signing_secret,
        events_url=f"{base}/slack/events",
        base_url=f"{base}{LOCAL_SLACK_PATH}",
        rate_limit_scale=1.0,
        sample_alert=SampleAlert(  # the page's "Send test alert": through the real webhook
            sample_alerts(clock.now),
            url=f"{base}{ALERTMANAGER_PATH}",
            headers={"Authorization": f"Bearer {settings.alert_token.get_secret_value()}"}
            if settings.alert_token
            else {},
        ),
    )
    redactor.add_secret(token)
    redactor.add_secret(signing_secret)
    return (
        LocalSlack(workspace=workspace, app=create_emulator(workspace)),
        token,
        signing_secret,
        f"{base}{LOCAL_SLACK_PATH}/api/",
    )


def real_slack(settings: Settings) -> tuple[str, str, str]:
    """A real workspace: (token, signing secret, Web API URL)."""
    if settings.slack_bot_token is None or not settings.slack_configured:
        raise ValueError(
            "outside local mode SLACK_BOT_TOKEN is needed, with SLACK_SIGNING_SECRET (HTTP mode) "
            "or SLACK_APP_TOKEN (Socket Mode)"
        )
    # Socket Mode needs no signing secret; without one, /slack/events gets a random secret nobody knows, so it
    # refuses every request instead of checking signatures against an empty key.
    secret = settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret is not None else secrets.token_hex(32)
    return settings.slack_bot_token.get_secret_value(), signing_secret, settings.slack_api_url


def build_chat(settings: Settings, redactor: Redactor, telemetry: Telemetry, clock: Clock) -> SlackSide:
    """The Web API client (every string argument redacted) and the ChatRoom on it."""
    local: LocalSlack | None = None
    if settings.local_mode:
        local, token, signing_secret, api_url = local_slack(settings, redactor, clock)
    else:
        token, signing_secret, api_url = real_slack(settings)
    client = make_client(
        token, base_url=api_url, on_rate_limited=telemetry.rate_limited, scrub=lambda s: visible(redactor(s))
    )
    room = SlackChatRoom(client, pacer=Pacer(scale=settings.slack_rate_scale))
    chat = RedactingChatRoom(room, redactor)
    return SlackSide(client=client, chat=chat, signing_secret=signing_secret, local=local, groups=room)


def build_slack_app(slack: SlackSide, settings: Settings, deps: Deps) -> SlackApp:
    """Bolt with every listener registered, and Socket Mode when an app token is set (not in local mode)."""
    bolt_logger = logging.getLogger("warroom.bolt")
    if not any(isinstance(f, UnverifiedBodyFilter) for f in bolt_logger.filters):
        bolt_logger.addFilter(UnverifiedBodyFilter())  # Bolt copies it to its own loggers
    bolt = AsyncApp(
        client=slack.client,
        signing_secret=slack.signing_secret,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=bolt_logger,
    )
    slack_handlers.register(bolt, slack_handlers.SlackContext(deps=deps, chat=slack.chat))
    socket = None
    if settings.slack_app_token is not None and slack.local is None:
        socket = SocketModeLink(bolt, settings.slack_app_token.get_secret_value())
    return SlackApp(bolt=bolt, handler=AsyncSlackRequestHandler(bolt), socket=socket)
