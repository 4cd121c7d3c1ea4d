"""Block Kit of every card and message, built through slack_sdk.models, validated and within Slack's limits.

Each rendering is checked three ways: its blocks are slack_sdk models whose `to_dict()` validation passes,
the JSON parses back into equal models, and the emulator (which enforces Slack's limits the way Slack does,
including those slack_sdk does not check) accepts it.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.domain.cards import ActionId, Button, Card, TriageCard
from bot.domain.incident import Role, Severity, Status
from integrations.local_workspace.blockkit import MAX_MESSAGE_BLOCKS, check_message_content, parse_blocks
from integrations.slack_rooms.blocks import _RENDERERS, render_card, text_blocks
from integrations.slack_rooms.mrkdwn import render

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
user_ids = st.one_of(st.from_regex(r"U[A-Z0-9]{2,10}", fullmatch=True), st.text(max_size=80))
texts = st.text(max_size=400) | st.text(alphabet="<>&*_~`!@#x ", min_size=1000, max_size=5000)
times = st.one_of(
    st.none(), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
)


@st.composite
def triage_cards(draw: st.DrawFn) -> TriageCard:
    roles = draw(st.dictionaries(st.sampled_from(list(Role)), st.lists(user_ids, min_size=1, max_size=30), max_size=4))
    return TriageCard(
        ref=draw(st.from_regex(r"INC-\d{8}-\d{3,6}", fullmatch=True)),
        title=draw(texts),
        severity=draw(st.sampled_from(list(Severity))),
        severity_reason=draw(texts),
        severity_confirmed=draw(st.booleans()),
        status=draw(st.sampled_from(list(Status))),
        declared_at=AT,
        declared_by=draw(user_ids),
        services=tuple(draw(st.lists(st.text(max_size=200), max_size=60))),
        alert_count=draw(st.integers(min_value=0, max_value=10**9)),
        regions=tuple(draw(st.lists(st.text(max_size=100), max_size=30))),
        roles=tuple((r, tuple(u)) for r, u in roles.items()),
        ack_by=draw(times),
        resolve_by=draw(times),
        acknowledged_at=draw(times),
        resolved_at=draw(times),
        summary=draw(st.none() | texts),
        runbook=draw(st.none() | texts),
        human_control=draw(st.booleans()),
        deploys_frozen=draw(st.booleans()),
    )


def check(blocks: list[Block], text: str) -> list[dict]:
    """Typed, validated, round-tripped, and accepted with Slack's limits; returns the JSON."""
    assert blocks and all(isinstance(b, Block) for b in blocks), "built from slack_sdk.models, not raw dicts"
    as_json = [b.to_dict() for b in blocks]  # validates each model (raises SlackObjectFormationError)
    assert [Block.parse(d).to_dict() for d in json.loads(json.dumps(as_json))] == as_json
    assert len(as_json) <= MAX_MESSAGE_BLOCKS
    parse_blocks(as_json)  # Slack's own limits: section fields of 2000, ids of 255, no duplicate block ids...
    check_message_content(text, as_json)
    assert len(text) <= 3000
    return as_json


def test_every_card_type_has_a_block_kit_renderer():
    # dataclass(slots=True) replaces the class it decorates: the replaced one stays a subclass, unnamed.
    kinds = {c for c in Card.__subclasses__() if getattr(sys.modules[c.__module__], c.__name__, None) is c}
    assert TriageCard in kinds
    assert kinds <= set(_RENDERERS), f"no Slack renderer for {kinds - set(_RENDERERS)}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(triage_cards())
def test_triage_cards_are_valid_block_kit_whatever_they_hold(card):
    rendered = render_card(card)
    as_json = check(rendered.blocks, rendered.text)
    assert as_json[0]["block_id"] == card.marker
    actions = [e["action_id"] for b in as_json if b["type"] == "actions" for e in b["elements"]]
    if card.actionable:
        assert ActionId.RESOLVE.value in actions and ActionId.SEVERITY.value in actions
    else:
        assert actions == []


@settings(max_examples=100, deadline=None)
@given(
    text=texts,
    marker=st.none() | st.text(min_size=1, max_size=400),
    labels=st.lists(st.text(min_size=1, max_size=200), max_size=40),
)
def test_messages_with_buttons_are_valid_block_kit(text, marker, labels):
    buttons = tuple(
        Button(label, ActionId.RESOLVE, f"INC-20261123-{i:03d}", style="primary") for i, label in enumerate(labels)
    )
    markup = render(text)
    as_json = check(text_blocks(markup, marker, buttons), markup[:3000] or "x")
    if marker:
        assert as_json[0]["block_id"] == marker[:255]


def test_a_card_near_every_limit_keeps_within_them():
    long = "<!channel> & " * 1000
    card = TriageCard(
        ref="INC-20261123-001", title=long, severity=Severity.SEV1, severity_reason=long, severity_confirmed=False,
        status=Status.ACKNOWLEDGED, declared_at=AT, declared_by="U0ALICE", services=tuple(f"svc-{i}" * 20 for i in range(60)),
        alert_count=10**9, regions=tuple(long[:100] for _ in range(30)),
        roles=tuple((r, tuple(f"U{i:04d}" for i in range(30))) for r in Role), ack_by=None, resolve_by=AT + timedelta(hours=1),
        acknowledged_at=AT, resolved_at=None, summary=long, runbook=long, human_control=True,
    )  # fmt: skip
    rendered = render_card(card)
    as_json = check(rendered.blocks, rendered.text)
    header = as_json[0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    assert all(len(f["text"]) <= 2000 for b in as_json for f in b.get("fields", []))
