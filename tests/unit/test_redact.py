"""Redaction of secrets and PII."""

from __future__ import annotations

import logging

import pytest

from bot.redact import RedactingFilter, Redactor


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("token xoxb-1234567890-abcdefghij leaked", "xoxb-1234567890"),
        ("app xapp-1-A0123-456-abcdef", "xapp-1-A0123"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("password=hunter22 and more", "hunter22"),
        ("api_key: 'sk_live_123456'", "sk_live_123456"),
        ("postgres://app:s3cr3tpw@db:5432/x", "s3cr3tpw"),
        ("mail jane.doe@acme.example now", "jane.doe@acme.example"),
        ("card 4111 1111 1111 1111 used", "4111 1111 1111 1111"),
        ("https://discord.com/api/webhooks/123456789012345678/abcDEF_token-xyz", "abcDEF_token-xyz"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJhbGci",
        ),
    ],
)
def test_patterns(text, leak):
    out = Redactor()(text)
    assert leak not in out
    assert "redacted" in out


def test_known_secret_values_are_removed_anywhere():
    r = Redactor(["s3cret-signing-value"])
    assert r("sig was s3cret-signing-value!") == "sig was [redacted]!"


def test_innocent_text_is_untouched():
    text = "INC-20261123-001 SEV2 checkout 5xx at 12.5% on <@U0ALICE>, order 12345"
    assert Redactor()(text) == text


def test_log_filter_redacts_formatted_message_and_exceptions():
    r = Redactor(["topsecretvalue"])
    rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with %s", ("topsecretvalue",), None)
    try:
        raise RuntimeError("boom topsecretvalue")
    except RuntimeError:
        import sys

        rec.exc_info = sys.exc_info()
    assert RedactingFilter(r).filter(rec)
    assert "topsecretvalue" not in rec.getMessage()
    assert "topsecretvalue" not in (rec.exc_text or "")
