"""Discord's limits, as a property: whatever the notices, the message fits (the loopback Discord's checks are
the oracle), and cutting ends with an ellipsis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.incident import Severity
from bot.domain.outbound import Link, Notice, NoticeField
from bot.domain.text import Text
from integrations.discord_embeds import embed, escape, fit
from tests.servers.discord_server import limit_problems

texts = st.one_of(st.text(max_size=50), st.integers(min_value=0, max_value=12_000).map(lambda n: "x" * n))
fields = st.builds(NoticeField, texts, texts.map(Text.of), st.booleans())
notices = st.builds(
    Notice, title=texts, body=texts.map(Text.of), fields=st.lists(fields, max_size=30).map(tuple),
    severity=st.none() | st.sampled_from(Severity), footer=st.none() | texts,
    links=st.lists(st.builds(Link, texts, st.just("https://example.com/x")), max_size=3).map(tuple),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(texts, st.lists(notices, max_size=14))
def test_any_message_fits_discords_limits(content, items):
    fitted, embeds = fit(escape(content), [embed(n) for n in items])
    message = {"content": fitted, "embeds": embeds}
    assert limit_problems(message) == []
    assert len(embeds) == min(len(items), 10)
    if len(escape(content)) > 2000:
        assert fitted.endswith("…")


def test_an_empty_title_or_field_is_never_sent_empty():
    e = embed(Notice(title="", fields=(NoticeField("", Text.of("")),)))
    assert e["title"] and e["fields"][0]["name"] and e["fields"][0]["value"]


def test_escaping_keeps_alert_text_literal():
    assert (
        escape("@everyone *x* `y` <@123456789012345678>")
        == "@\u200beveryone \\*x\\* \\`y\\` <@\u200b123456789012345678>"
    )
