"""What the settings open to whom: the truth `warroom check-config` tells, and what `serve` refuses.

Local mode has no Slack and no secrets of its own, so it must stay on this machine: on a non-loopback
WARROOM_HOST it needs WARROOM_LOCAL_MODE_PUBLIC=true, a WARROOM_ALERT_TOKEN for the webhooks, and a
wildcard host (the built-in Slack emulator answers loopback clients only, so the bot must listen on
loopback too).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def is_loopback_host(host: str) -> bool:
    """A listen address only this machine can reach (a host name may resolve to any interface: no)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard_host(host: str) -> bool:
    """0.0.0.0 or :: (every interface, loopback included)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def http_url(host: str, port: int) -> str:
    """http://host:port, with brackets around an IPv6 address."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def loopback_url(host: str, port: int) -> str:
    """Where this machine reaches a server bound to `host`: over loopback when it listens on every interface."""
    if is_wildcard_host(host):
        host = "::1" if ":" in host else "127.0.0.1"
    return http_url(host.strip("[]"), port)


def exposure_problems(settings: Settings) -> list[str]:
    """Settings that would open local mode to the network (`warroom serve` refuses to start with any)."""
    if not settings.local_mode or is_loopback_host(settings.host):
        return []
    host = f"WARROOM_HOST={settings.host}"
    if not settings.local_mode_public:
        return [
            f"local mode (no Slack) listens on {host}, which is not a loopback address: anyone who can reach it"
            " could post alerts and act in the built-in Slack workspace; use WARROOM_HOST=127.0.0.1, configure"
            " Slack, or set WARROOM_LOCAL_MODE_PUBLIC=true (the webhooks then need WARROOM_ALERT_TOKEN)"
        ]
    found = []
    if settings.alert_token is None:
        found.append(f"WARROOM_LOCAL_MODE_PUBLIC=true on {host} needs WARROOM_ALERT_TOKEN for the webhooks")
    if not is_wildcard_host(settings.host):
        found.append(
            f"WARROOM_LOCAL_MODE_PUBLIC=true needs WARROOM_HOST=0.0.0.0 or :: (got {settings.host}): the built-in"
            " Slack emulator answers loopback clients only, so the bot must listen on loopback too"
        )
    if "*" in settings.trusted_proxies:
        found.append(
            "WARROOM_LOCAL_MODE_PUBLIC=true with FORWARDED_ALLOW_IPS=*: any client could claim to be loopback"
            " with X-Forwarded-For; list your proxies instead"
        )
    return found


def exposure_lines(settings: Settings) -> list[str]:
    """check-config's account of who can reach what, one line per surface."""
    if is_loopback_host(settings.host):
        reach = f"this machine only (WARROOM_HOST={settings.host}), and whatever a proxy you run forwards"
    else:
        reach = f"the network (WARROOM_HOST={settings.host} is not a loopback address)"
    no_token = ["/healthz", "/readyz", "/metrics (incident and outbox counts)", "GET /webhooks/generic/schema"]
    if settings.api_token is not None and settings.api_public_read:
        no_token.append("GET /api/v1/* (incidents, timelines, silences, review queue)")
    if settings.alert_token is None and settings.local_mode:
        no_token.append("/webhooks/* from loopback clients")

    if settings.local_mode:
        slack = "signed by the built-in emulator only (a random secret per run)"
    elif settings.slack_signing_secret is not None:
        slack = "Slack-signed requests only (SLACK_SIGNING_SECRET)"
    else:
        slack = "not served (no SLACK_SIGNING_SECRET)"

    if settings.alert_token is not None:
        webhooks = "WARROOM_ALERT_TOKEN required (bearer, or basic-auth password)"
    elif settings.local_mode:
        webhooks = "no WARROOM_ALERT_TOKEN: loopback clients only (local mode); refused from elsewhere"
    else:
        webhooks = "no WARROOM_ALERT_TOKEN: every request refused"

    if settings.api_token is not None and settings.api_public_read:
        api = "reads OPEN to anyone who can connect (WARROOM_API_PUBLIC_READ=true); writes need WARROOM_API_TOKEN"
    elif settings.api_token is not None:
        api = "WARROOM_API_TOKEN required"
    else:
        api = "no WARROOM_API_TOKEN: loopback clients only"
        if settings.api_public_read:
            api += " (WARROOM_API_PUBLIC_READ is ignored without a token)"

    proxies = ", ".join(settings.trusted_proxies) or "none"
    if "*" in settings.trusted_proxies:
        trust = "from ANY peer (FORWARDED_ALLOW_IPS=*): any client can claim to be loopback"
    else:
        trust = f"only from {proxies} (FORWARDED_ALLOW_IPS)"
    lines = [
        "  exposure:",
        f"    reachable from:   {reach}",
        f"    no token needed:  {', '.join(no_token)}",
        f"    /slack/events:    {slack}",
        f"    /webhooks/*:      {webhooks}",
        f"    /api/v1/*:        {api}",
    ]
    if settings.local_mode:
        lines.append("    /local-slack/*:   the built-in Slack emulator, loopback clients only")
    lines.append(f"    X-Forwarded-For:  believed {trust}")
    return lines
