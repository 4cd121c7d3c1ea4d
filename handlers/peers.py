"""Who is asking: loopback clients, judged from the peer address the server saw.

`scope["client"]` is the TCP peer, or the client a trusted proxy named in `X-Forwarded-For` (uvicorn
rewrites it only for peers listed in FORWARDED_ALLOW_IPS). Nothing else (Host, Origin, a header the
client sets itself) makes a client local.

A browser on this machine is a loopback client whatever page it shows, so what trusts loopback clients
without a token (the API without WARROOM_API_TOKEN, local mode's webhooks) also asks `local_request`: the
`Host` must name this machine (a DNS name an attacker points at 127.0.0.1 does not: DNS rebinding), and a
request that carries an `Origin` (every cross-site fetch or form POST does) must come from the same origin
(cross-site request forgery). Programs (curl, Alertmanager, Prometheus) send no Origin.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

from starlette.requests import HTTPConnection


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped form (::ffff:127.0.0.1, seen on dual-stack sockets)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def client_is_loopback(connection: HTTPConnection) -> bool:
    """True when the request comes from this machine's loopback interface."""
    return is_loopback(connection.client.host if connection.client else None)


def names_this_machine(host_header: str) -> bool:
    """True when a Host header (`name[:port]`) is `localhost` or a loopback address."""
    try:
        hostname = urllib.parse.urlsplit("//" + host_header).hostname
    except ValueError:
        return False
    return hostname is not None and (hostname == "localhost" or is_loopback(hostname))


def local_request(connection: HTTPConnection) -> str | None:
    """None when the request comes from this machine, addressed to it, from no other web origin; else why not."""
    if not client_is_loopback(connection):
        return "loopback clients only"
    host = connection.headers.get("host")
    if host is not None and not names_this_machine(host):
        return "requests addressed to localhost or a loopback address only (Host)"
    origin = connection.headers.get("origin")
    if origin is not None:
        try:
            netloc = urllib.parse.urlsplit(origin).netloc
        except ValueError:
            netloc = ""
        if host is None or netloc.lower() != host.lower():
            return "no requests from other web sites (Origin)"
    return None
