"""Redaction of secrets and PII."""

from __future__ import annotations

import logging

import pytest

from bot.clock import ManualClock
from bot.domain.cards import triage_card
from bot.domain.incident import Incident, Severity, Status
from bot.domain.text import Mention, Text
from bot.redact import RedactingChatRoom, RedactingFilter, Redactor
from tests.fakes.chat import FakeChatRoom


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


def test_a_secret_is_found_in_its_escaped_form_too():
    r = Redactor(["p&ss<w>rd-value"])
    assert r("raw p&ss<w>rd-value / escaped p&amp;ss&lt;w&gt;rd-value") == "raw [redacted] / escaped [redacted]"
    r.add_secret("a&b-second-secret")
    assert r("x a&amp;b-second-secret") == "x [redacted]"


def test_redaction_is_idempotent_on_its_own_output():
    r = Redactor(["s3cr3t-config-value"])
    once = r("password=hunter2 AKIAIOSFODNN7EXAMPLE alice@example.com s3cr3t-config-value Bearer abcdefghijkl")
    assert r(once) == once


def test_text_redacts_data_and_keeps_mentions():
    r = Redactor(["s3cr3t-config-value"])
    t = r.text(Text.of("by ", Mention("U0ALICE"), ": s3cr3t-config-value password=hunter2"))
    assert t.parts == ("by ", Mention("U0ALICE"), ": [redacted] password=[redacted]")


async def test_the_chat_decorator_redacts_every_card_field_topic_and_text():
    chat = FakeChatRoom()
    room = RedactingChatRoom(chat, Redactor(["s3cr3t-config-value"]))
    ch = await room.create_channel("inc-1")
    card = triage_card(
        Incident(
            id=1,
            ref="INC-20261123-001",
            title="s3cr3t-config-value down",
            severity=Severity.SEV2,
            status=Status.DECLARED,
            declared_at=ManualClock().now(),
            declared_by="U0ALICE",
            severity_reason="label password=hunter2",
            summary="mail alice@example.com",
            services=["s3cr3t-config-value"],
            regions=["AKIAIOSFODNN7EXAMPLE"],
        ),
        runbook="runbook s3cr3t-config-value",
    )
    await room.post_card(ch.id, card)
    await room.set_topic(ch.id, Text.of("IC ", Mention("U0ALICE"), " s3cr3t-config-value"))
    await room.post_text(ch.id, "token s3cr3t-config-value")
    reply = room.render(Text.of("done s3cr3t-config-value"))
    posted = chat.channels[ch.id]
    everything = repr(posted.messages[0].card) + posted.topic + posted.messages[1].text + reply
    for leak in ("s3cr3t-config-value", "hunter2", "alice@example.com", "AKIAIOSFODNN7EXAMPLE"):
        assert leak not in everything
    assert posted.topic == "IC <@U0ALICE> [redacted]"
