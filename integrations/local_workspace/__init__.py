"""A loopback Slack-compatible workspace: Web API, rate tiers, Block Kit limits, signed callbacks, and a web page.

It stands in for Slack's servers in local mode and in tests, and imports nothing of warroom's own.
"""

from .app import create_app
from .clock import Clock, ManualClock, system_clock
from .errors import ApiError
from .faults import Fault
from .feed import Feed, FeedClosed
from .limits import METHOD_RATES, Rate, RateLimiter
from .records import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_ID,
    ApiCall,
    Channel,
    Delivery,
    Ephemeral,
    Message,
    User,
    View,
)
from .sample_alert import SampleAlert
from .server import EmulatorServer
from .signing import signature, signed_headers
from .state import GENERAL_ID, OPS_ALERTS_ID
from .workspace import Workspace

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "GENERAL_ID",
    "METHOD_RATES",
    "OPS_ALERTS_ID",
    "TEAM_ID",
    "ApiCall",
    "ApiError",
    "Channel",
    "Clock",
    "Delivery",
    "EmulatorServer",
    "Ephemeral",
    "Fault",
    "Feed",
    "FeedClosed",
    "ManualClock",
    "Message",
    "Rate",
    "RateLimiter",
    "SampleAlert",
    "User",
    "View",
    "Workspace",
    "create_app",
    "signature",
    "signed_headers",
    "system_clock",
]
