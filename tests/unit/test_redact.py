"""Redaction of secrets and PII."""

from __future__ import annotations

import logging

import pytest

from bot.clock import ManualClock
from bot.domain.cards import triage_card
from bot.domain.incident import Incident, Severity, Status
from bot.domain.text import Mention, Text
from bot.redact import LOG_TEXT_MAX, RedactingChatRoom, RedactingFilter, Redactor, install_log_redaction
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


# --- bounded work on huge texts -----------------------------------------------------------------

SECRET = "s3cret-signing-value-0123456789"


def test_short_texts_are_only_redacted():
    r = Redactor([SECRET])
    assert r.clip(f"sig {SECRET} ok") == "sig [redacted] ok"


def test_huge_text_keeps_a_bounded_head_and_tail():
    out = Redactor().clip("head " + "word " * 2_000_000 + "tail", limit=LOG_TEXT_MAX)
    assert len(out) < LOG_TEXT_MAX + 100
    assert out.startswith("head word") and out.endswith("word tail")
    assert "characters not logged" in out


PASSPHRASE = "correct horse battery staple"


def filler(n: int, word: str = "a") -> str:
    return (f"{word} " * n)[:n]


@pytest.mark.parametrize("secret", [SECRET, PASSPHRASE])
@pytest.mark.parametrize("shift", range(1, len(PASSPHRASE)))
def test_a_cut_through_a_known_secret_leaves_no_piece_of_it(secret, shift):
    r = Redactor([SECRET, PASSPHRASE])
    limit = 1000
    keep = limit * 3 // 4
    shift = min(shift, len(secret) - 1)
    # The secret straddles the head's cut (its first `shift` characters kept), or the tail's (its last ones).
    head_cut = filler(keep - shift) + secret + filler(5000, "b")
    tail_cut = filler(5000) + secret + filler(limit - keep - shift, "b")
    for text in (head_cut, tail_cut):
        out = r.clip(text, limit=limit)
        assert "characters not logged" in out
        for k in range(4, len(secret) + 1):
            assert secret[:k] not in out and secret[-k:] not in out, (shift, out)


def test_a_cut_through_a_private_key_leaves_none_of_it():
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(["QUJDREVGR0hJSktMTU5PUA=="] * 2000)
        + "\n-----END RSA PRIVATE KEY-----"
    )
    out = Redactor().clip(f"dump {key} done", limit=4000)
    assert "QUJDREVG" not in out and "[redacted-key]" in out and out.endswith("done")


def test_log_records_are_cut_before_they_are_redacted():
    root = logging.getLogger()
    factory = logging.getLogRecordFactory()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    logger = logging.getLogger("warroom.test.clip")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        installed = install_log_redaction(Redactor([SECRET]))
        logger.info("body: %s", f"{SECRET} " + "x " * 5_000_000)
        try:
            raise ValueError("y " * 5_000_000)
        except ValueError:
            logger.exception("failed")
    finally:
        logging.setLogRecordFactory(factory)
        logger.removeHandler(handler)
        for h in root.handlers:
            h.removeFilter(installed)
    message, failure = seen
    assert len(message.getMessage()) < LOG_TEXT_MAX + 100
    assert message.getMessage().startswith("body: [redacted] x x")
    assert len(failure.exc_text or "") < LOG_TEXT_MAX + 100 and "ValueError" in (failure.exc_text or "")
