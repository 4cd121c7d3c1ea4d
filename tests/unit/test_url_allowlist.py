"""The http executor's URL allow-list: exact scheme, host and port, path prefix at a segment boundary."""

from __future__ import annotations

import pytest

from bot.domain.url_allowlist import parse_prefix, refusal

ALLOW = [parse_prefix(p) for p in ("http://*.shop:8080/actuator/", "https://ops.example.com/api", "http://10.0.0.1/")]


@pytest.mark.parametrize(
    "url",
    [
        "http://checkout.shop:8080/actuator/circuitbreakers/pay",
        "http://checkout.shop:8080/actuator/",
        "https://ops.example.com/api",
        "https://ops.example.com:443/api/flags?x=1",
        "HTTPS://OPS.example.com/api/x",
        "http://10.0.0.1/anything",
        "http://10.0.0.1:80/",
    ],
)
def test_admitted(url):
    assert refusal(url, ALLOW) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://checkout.shop:8081/actuator/x", "allow-list"),
        ("http://a.b.shop:8080/actuator/x", "allow-list"),  # `*` is one label
        ("http://shop:8080/actuator/x", "allow-list"),
        ("http://checkout.shop:8080/admin", "allow-list"),
        ("https://ops.example.com/apix", "allow-list"),  # not at a segment boundary
        ("http://ops.example.com/api/x", "allow-list"),  # scheme differs
        ("https://ops.example.com.evil.io/api/x", "allow-list"),
        ("https://evil.io/https://ops.example.com/api", "allow-list"),
        ("https://ops.example.com/api/../admin", "'..' segments"),
        ("https://ops.example.com/api/%2E%2E/admin", "'..' segments"),
        ("https://ops.example.com/api/a%2fb", "encoded '/'"),
        ("https://user:pw@ops.example.com/api/x", "user info"),
        ("https://ops.example.com/api/x#f", "fragment"),
        ("https://ops.example.com/api/x y", "space"),
        ("https://ops.example.com/api/x\n", "control"),
        ("https://ops.example.com\\@evil.io/api", "backslash"),
        ("ftp://ops.example.com/api/x", "not an http"),
        ("http://checkout.shop:99999/actuator/", "cannot be called"),
    ],
)
def test_refused_with_the_reason(url, why):
    reason = refusal(url, ALLOW)
    assert reason is not None and why in reason and "nothing was sent" in reason


@pytest.mark.parametrize(
    "entry", ["ftp://x/", "http:///x", "http://x/?q=1", "http://*/x", "http://a_b.shop/", "http://u@x/", "http://x/../"]
)
def test_bad_entries(entry):
    with pytest.raises(ValueError, match="not an allowed URL prefix"):
        parse_prefix(entry)
