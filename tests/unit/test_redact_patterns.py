"""Each redaction pattern, as a table of examples and as a property over generated values: the sensitive value
never survives in any surrounding text, and what merely looks like it (timestamps, versions, references,
private addresses when only public ones are hidden, numbers failing Luhn) is left alone."""

from __future__ import annotations

import base64
import ipaddress
import json
import string
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.redact import Redactor
from bot.redact_patterns import luhn_ok

WORDS = st.text(alphabet=string.ascii_lowercase + " ", max_size=30)
"""Surrounding text without digits, capitals, `@` or punctuation: anything left of a value shows in the output."""


def around(value: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    """(value, the value inside random words)."""
    return st.tuples(value, WORDS, WORDS).map(lambda t: (t[0], f"{t[1]} {t[0]} {t[2]}"))


# -- generators of each kind of value --------------------------------------------------------------


def _with_luhn(body: str) -> str:
    return next(body + d for d in string.digits if luhn_ok(body + d))


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from([("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16),
                                           ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("35", 16),
                                           ("62", 19), ("36", 14)]))  # fmt: skip
    body = prefix + draw(st.text(alphabet=string.digits, min_size=length - len(prefix) - 1,
                                 max_size=length - len(prefix) - 1))  # fmt: skip
    number = _with_luhn(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    digits = st.text(alphabet=string.digits, min_size=1, max_size=1)
    if draw(st.booleans()):  # North American
        d = "".join(draw(digits) for _ in range(10))
        shape = draw(st.sampled_from(["({}) {}-{}", "{}-{}-{}", "{}.{}.{}", "{} {} {}"]))
        return shape.format(d[:3], d[3:6], d[6:])
    cc = str(draw(st.integers(min_value=1, max_value=999)))
    groups = draw(st.lists(st.integers(min_value=2, max_value=4), min_size=2, max_size=4))
    total = len(cc) + sum(groups)
    assume(8 <= total <= 15)
    sep = draw(st.sampled_from([" ", "-", "."]))
    parts = ["".join(draw(digits) for _ in range(n)) for n in groups]
    compact = draw(st.booleans())
    return f"+{cc}" + ("".join(parts) if compact else "".join(sep + p for p in parts))


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@st.composite
def jwts(draw: st.DrawFn) -> str:
    claims = draw(st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), st.integers(), max_size=4))
    sig = draw(st.text(alphabet=string.ascii_uppercase + string.digits + "-_", min_size=16, max_size=86))
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': '1', **claims})}.{sig}"


TOKEN = string.ascii_letters + string.digits
aws_key_ids = st.tuples(st.sampled_from(["AKIA", "ASIA"]), st.text(string.ascii_uppercase + string.digits,
                                                                  min_size=16, max_size=16)).map("".join)  # fmt: skip
aws_secrets = st.text(alphabet=TOKEN + "/+", min_size=40, max_size=40)
bearer_tokens = st.text(alphabet=string.ascii_uppercase + string.digits + "._~+/-", min_size=8, max_size=64)
url_passwords = st.text(alphabet=TOKEN + "!$%^*_-~", min_size=4, max_size=20)
global_v4 = st.ip_addresses(v=4).filter(lambda ip: ip.is_global).map(str)
global_v6 = st.ip_addresses(v=6).filter(lambda ip: ip.is_global and ip.ipv4_mapped is None).map(str)
private_v4 = (
    st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    .flatmap(lambda net: st.ip_addresses(network=net))
    .map(str)
)


# -- properties --------------------------------------------------------------------------------------


@given(around(st.emails()))
def test_no_email_survives(case):
    email, text = case
    out = Redactor()(text)
    assert email not in out and "@" not in out
    assert "[redacted-email]" in out


@pytest.mark.parametrize("phone", ["+1 4111 1111 1111 11", "+411111111111116", "+44 20 7946 0958"])
def test_an_international_number_is_a_phone_even_when_its_digits_look_like_a_card(phone):
    # Found by the property below: the card pattern took the digits after `+1 ` (Luhn-valid, network prefix).
    out = Redactor()(f"call {phone} now")
    assert out == "call [redacted-phone] now", out


@given(around(phone_numbers()))
def test_no_phone_number_survives(case):
    phone, text = case
    out = Redactor()(text)
    assert not any(c.isdigit() for c in out), out
    assert "[redacted-phone]" in out


@given(around(card_numbers()))
def test_no_card_number_survives(case):
    card, text = case
    out = Redactor()(text)
    assert not any(c.isdigit() for c in out), out


@given(card_numbers())
def test_a_number_that_fails_luhn_is_not_a_card(card):
    digits = card.replace(" ", "").replace("-", "")
    broken = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert not luhn_ok(broken)
    assert Redactor()(f"order {broken} shipped") == f"order {broken} shipped"


@given(around(global_v4), around(global_v6))
def test_no_public_ip_address_survives(v4, v6):
    for ip, text in (v4, v6):
        out = Redactor()(text)
        assert ip not in out and "[redacted-ip]" in out


@given(private_v4)
def test_private_addresses_stay_unless_all_are_hidden(ip):
    assert Redactor()(f"node {ip}:9100 down") == f"node {ip}:9100 down"
    assert ip not in Redactor(ips="all")(f"node {ip}:9100 down")


@given(global_v4)
def test_no_address_is_hidden_when_told_none(ip):
    assert Redactor(ips="none")(f"client {ip}") == f"client {ip}"


@given(around(aws_key_ids), aws_secrets)
def test_no_aws_key_survives(case, secret):
    key, text = case
    assert key not in Redactor()(text)
    for shape in (f"aws_secret_access_key={secret}", f'"SecretAccessKey": "{secret}"', f"AWS_SECRET_KEY: {secret}"):
        assert secret not in Redactor()(f"creds {shape} end"), shape


@given(around(bearer_tokens.map(lambda t: f"Authorization: Bearer {t}")))
def test_no_bearer_token_survives(case):
    header, text = case
    token = header.split()[-1]
    assert token not in Redactor()(text)


@given(around(jwts()))
def test_no_jwt_survives(case):
    jwt, text = case
    out = Redactor()(text)
    assert jwt.split(".")[1] not in out and jwt.split(".")[2] not in out and "[redacted-jwt]" in out


@given(url_passwords, st.sampled_from(["https", "postgres", "redis", "amqp"]))
def test_no_password_in_a_url_survives(password, scheme):
    out = Redactor()(f"dsn {scheme}://app-user:{password}@db.internal:5432/x failed")
    assert f":{password}@" not in out and "://app-user:[redacted]@db.internal" in out


@given(st.text(min_size=4, max_size=40), WORDS, WORDS)
def test_no_configured_secret_value_survives(secret, left, right):
    assume(secret.strip() and secret not in "[redacted] [redacted-email] [redacted-ip] [redacted-phone]")
    r = Redactor([secret])
    out = r(f"{left}{secret}{right}")
    assert secret not in out


@given(st.text(max_size=200))
def test_redaction_is_idempotent(text):
    r = Redactor(["configured-secret-value"])
    once = r(text)
    assert r(once) == once


# -- tables ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("call +1 (415) 555-2671 now", "555-2671"),
        ("ring 415-555-2671.", "555-2671"),
        ("uk +44 20 7946 0958", "7946"),
        ("compact +14155552671", "4155552671"),
        ("from 8.8.8.8.", "8.8.8.8"),
        ("v6 2606:4700:4700::1111 seen", "2606:4700"),
        ("card 4111111111111111.", "4111111111111111"),
        ("amex 3782-822463-10005", "822463"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ('{"password": "hunter2", "db_password":"x1"}', "hunter2"),
        ('{"db_password":"x1y2z3"}', "x1y2z3"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("https://:pw123456@host/x", "pw123456"),
        ("odd a!b#c@example.co.uk mail", "a!b#c"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdef"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("MY_API_KEY=abc123def", "abc123def"),
        ("client_secret: s3cr3t-v4lue", "s3cr3t-v4lue"),
    ],
)
def test_table_of_redacted_values(text, leak):
    out = Redactor()(text)
    assert leak not in out and "redacted" in out


@pytest.mark.parametrize(
    "text",
    [
        "INC-20261123-001 declared 2026-11-23 12:00:00Z, 12.5% errors, p99 1234 ms",
        "ts 1763900000123 ms and slack ts 1763900000.000100",
        "version v1.2.3 build 2026.11.23 port :8080",
        "node 10.0.0.5:9100 and 192.168.1.20 and ::1 and fe80::1",
        "at 12:30:45, mac 00:1a:2b:3c:4d:5e",
        "id 123e4567-e89b-12d3-a456-426614174000 pod checkout-7d9f8b6c5-x2v4q",
        "token_count=5 max_tokens=3 secretary: Bob",
        "order 12345 qty 4 total 99.95",
    ],
)
def test_table_of_innocent_text(text):
    assert Redactor()(text) == text


def test_ipaddress_agrees_on_the_examples():
    assert ipaddress.ip_address("8.8.8.8").is_global and not ipaddress.ip_address("10.0.0.5").is_global


@pytest.mark.parametrize(
    "unit",
    ["a", "1.", "aB3+/", "1", "1 ", "ab:", "+1 ", "password_hint_", "a-", "a@", "1:", "a.", "4111 ", "eyJa.", "x:y@",
     "password=", "a@b.", "1.1.1.1 ", "(415) ", "://a:", "bearer ", "1-"],
)  # fmt: skip
def test_redaction_takes_linear_time_on_pathological_text(unit):
    """16 KB (a log line's cap) of a repeated shape: each pattern scans it in bounded steps (a lazy prefix before
    the names of secrets took 30 s on `1.1.1.`; an unbounded email local part was quadratic)."""
    text = (unit * (16_000 // len(unit) + 1))[:16_000]
    started = time.perf_counter()
    Redactor(["configured-secret-value"])(text)
    assert time.perf_counter() - started < 1.0
