"""Who is asking: loopback clients, judged from the peer address the server saw.

`scope["client"]` is the TCP peer, or the client a trusted proxy named in `X-Forwarded-For` (uvicorn
rewrites it only for peers listed in FORWARDED_ALLOW_IPS). Nothing else (Host, Origin, a header the
client sets itself) makes a client local.
"""

from __future__ import annotations

import ipaddress

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
