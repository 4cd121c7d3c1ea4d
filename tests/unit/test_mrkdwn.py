"""Slack mrkdwn: data escaped exactly once, only the bot's own mentions live; Slack markup read back to text."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.domain.cards import triage_card
from bot.domain.incident import Incident, Role, Severity, Status
from bot.domain.text import ChannelLink, Mention, Text, visible
from integrations.slack_rooms import mrkdwn
from integrations.slack_rooms.blocks import render_card

ATTACK = "<!channel> <!here> <https://evil.example|login> <@U0VICTIM> <#C0OTHER> <!subteam^S1|@oncall> a&b"
TOKEN = re.compile(r"<[^>]*>")
ENTITY_OR_AMP = re.compile(r"&(?!amp;|lt;|gt;)")

user_ids = st.from_regex(r"U[A-Z0-9]{2,10}", fullmatch=True)
parts = st.lists(st.one_of(st.text(), user_ids.map(Mention)), max_size=8)


def test_user_text_is_escaped_not_read_as_markup():
    out = mrkdwn.render(Text.of("Note from ", Mention("U0ALICE"), ": ", ATTACK))
    assert out == (
        "Note from <@U0ALICE>: &lt;!channel&gt; &lt;!here&gt; &lt;https://evil.example|login&gt; "
        "&lt;@U0VICTIM&gt; &lt;#C0OTHER&gt; &lt;!subteam^S1|@oncall&gt; a&amp;b"
    )
    assert TOKEN.findall(out) == ["<@U0ALICE>"]


def test_a_plain_string_is_all_data():
    assert mrkdwn.render("<@U0BOB> & <!here>") == "&lt;@U0BOB&gt; &amp; &lt;!here&gt;"


def test_mentions_and_links_only_for_well_formed_ids():
    out = mrkdwn.render(Text.of(Mention("alertmanager"), " ", Mention("!channel"), " ", ChannelLink("!here")))
    assert "<" not in out and out == "alertmanager !channel #!here"
    assert mrkdwn.render(Text.of(ChannelLink("C0ROOM"), Mention("W0ABC"))) == "<#C0ROOM><@W0ABC>"


def test_escaping_happens_once():
    # Text that looks escaped already is data like any other: it is shown as typed.
    assert mrkdwn.render("&lt;b&gt; &amp;") == "&amp;lt;b&amp;gt; &amp;amp;"
    assert mrkdwn.plain(mrkdwn.render("&lt;b&gt;")) == "&lt;b&gt;"


def test_invisible_characters_are_dropped_when_rendered():
    assert mrkdwn.render("a\u202eb\u200bc") == "abc"
    assert mrkdwn.plain_text("a\u2066b\ufeff") == "ab"


@given(st.text())
def test_data_never_yields_a_token_or_a_stray_entity(text):
    out = mrkdwn.render(text)
    assert "<" not in out and ">" not in out
    assert not ENTITY_OR_AMP.search(out)
    assert mrkdwn.plain(out) == visible(text)  # escaped exactly once: reading it back gives the text


@given(parts)
def test_the_only_tokens_are_the_bots_mentions(items):
    out = mrkdwn.render(Text.of(*items))
    assert TOKEN.findall(out) == [f"<@{p.user_id}>" for p in items if isinstance(p, Mention)]


@given(st.text(), st.integers(min_value=1, max_value=60))
def test_clip_never_cuts_an_entity_or_a_token(text, limit):
    markup = mrkdwn.render(Text.of(text, Mention("U0ALICE"), text))
    out = mrkdwn.clip(markup, limit)
    assert len(out) <= limit
    body = out[:-1] if out.endswith("…") and out != markup else out
    assert markup.startswith(body)
    assert not re.search(r"&[a-z]*$", body) and not re.search(r"<[^>]*$", body)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
        ("ping <@U0BOB|bob> and <@U0CAROL>", "ping @bob and @U0CAROL"),
        ("<!channel> <!here|here> <!everyone>", "@channel @here @everyone"),
        ("<!subteam^S0123|@sre-oncall> look", "@sre-oncall look"),
        ("in <#C0123|war-room>", "in #war-room"),
        ("<https://grafana.example/d/1?a=1&amp;b=2>", "https://grafana.example/d/1?a=1&b=2"),
        ("<https://evil.example|login>", "login (https://evil.example)"),
        ("<mailto:ops@example.com|ops@example.com>", "ops@example.com"),
        ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
    ],
)
def test_slack_markup_reads_back_as_plain_text(markup, text):
    assert mrkdwn.plain(markup) == text


def malicious_card():
    clock = ManualClock()
    inc = Incident(
        id=1,
        ref="INC-20261123-001",
        title=f"{ATTACK} \u202egnp.exe",
        severity=Severity.SEV2,
        status=Status.DECLARED,
        declared_at=clock.now(),
        declared_by="alertmanager",
        severity_reason="severity label <!channel>",
        summary="<!here> rolled back",
        services=["<!channel>-api"],
        regions=["<https://evil.example|us-east-1>"],
        alert_count=2,
        roles={Role.COMMANDER: ["U0BOB"], Role.SCRIBE: ["<!here>"]},
    )
    return triage_card(inc, runbook="<!channel> runbook")


def mrkdwn_texts(blocks):
    """Every text of a mrkdwn object in the blocks, and every plain_text one, separately."""
    found: dict[str, list[str]] = {"mrkdwn": [], "plain_text": []}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in found and isinstance(node.get("text"), str):
                found[node["type"]].append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(blocks)
    return found


def test_card_escapes_every_mrkdwn_field_and_cleans_plain_text():
    card = malicious_card()
    rendered = render_card(card)
    blocks = [b.to_dict() for b in rendered.blocks]
    texts = mrkdwn_texts(blocks)
    live = [t for t in texts["mrkdwn"] for t in TOKEN.findall(t)]
    assert {t for t in live if not t.startswith("<!date^")} == {"<@U0BOB>"}, live
    everything = json.dumps(texts["mrkdwn"])
    for data in ("&lt;!channel&gt;", "&lt;!here&gt;", "&lt;https://evil.example|us-east-1&gt;"):
        assert data in everything
    header = texts["plain_text"][0]  # plain_text is not parsed: the title is shown as written, minus the spoofing
    assert header == f"INC-20261123-001 · {ATTACK} gnp.exe"
    assert "\u202e" not in json.dumps(blocks, ensure_ascii=False)
    fallback = rendered.text
    assert "<" not in fallback and "&lt;!channel&gt;" in fallback and "\u202e" not in fallback
