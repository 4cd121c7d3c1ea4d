"""Approval cards on Slack: Block Kit validated by slack_sdk's models, the five sections and the buttons while a
decision can be taken, outside text escaped (a label value cannot mention, link or close the code span), and the
execution's output posted as a reply in the card's thread on the emulator, redacted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.approval_cards import approval_card
from bot.domain.policy import Decision
from bot.domain.remediation import ActionStatus, RemediationAction
from bot.domain.runbook import Risk
from bot.domain.text import Text
from bot.redact import RedactingChatRoom, Redactor
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.blocks import render_card
from integrations.slack_rooms.pacing import Pacer
from integrations.slack_rooms.rooms import validated

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def action(**kw) -> RemediationAction:
    base = dict(
        id="a-0123456789ab", incident_id=1, runbook="error-rate-spike", step="rollback",
        title="Roll back web to its previous revision", risk=Risk.HIGH, executor="kubectl",
        argv=("kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"),
        values={"deployment": "web", "namespace": "shop"},
        rollback=("kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"),
        verify=None, hypothesis="h-1", rationale="Root cause confirmed by U0BOB: a bad deploy (web, bad_deploy).",
        impact="Roll back web. Verified afterwards: the query must read < 0.01.",
        blast_radius="kubectl on deployment web, namespace shop; the incident covers web (3 alerts)",
        requested_by="U0BOB", decision=Decision.APPROVAL, proposed_at=AT, expires_at=AT.replace(minute=15),
    )  # fmt: skip
    base.update(kw)
    return RemediationAction(**base)


def texts(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        for obj in [b.get("text"), *(b.get("fields") or []), *(b.get("elements") or [])]:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                out.append(obj["text"])
    return "\n".join(out)


def test_the_card_shows_action_rationale_impact_blast_radius_rollback_and_buttons():
    blocks = validated(render_card(approval_card(action(), ref="INC-20260301-001")).blocks)
    for b in blocks:
        Block.parse(b).validate_json()
    shown = texts(blocks)
    for head in ("*Action*", "*Rationale*", "*Expected impact*", "*Blast radius*", "*Rollback plan*"):
        assert head in shown
    assert "`kubectl rollout undo deployment/web -n shop`" in shown
    assert "<@U0BOB>" in shown and "a-0123456789ab" in shown
    [buttons] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [
        ("action-approve", "a-0123456789ab"), ("action-reject", "a-0123456789ab")]  # fmt: skip
    assert "confirm" in buttons["elements"][0], "a HIGH-risk approval asks again"


def test_label_values_are_data_on_the_card():
    evil = action(values={"deployment": "web`<!channel>", "namespace": "<https://evil.example|click>"},
                  refusal="refused: the value of {{namespace}}, '<!here>', cannot go into a command",
                  status=ActionStatus.REFUSED)  # fmt: skip
    blocks = validated(render_card(approval_card(evil, ref="INC-1")).blocks)
    shown = texts(blocks)
    assert "<!channel>" not in shown and "<!here>" not in shown and "<https://evil" not in shown
    assert "&lt;!channel&gt;" in shown
    assert not [b for b in blocks if b["type"] == "actions"], "a refused action offers no button"
    assert "Not runnable" in shown


@pytest.mark.parametrize(
    "status", [ActionStatus.APPROVED, ActionStatus.EXPIRED, ActionStatus.SUPERSEDED, ActionStatus.ROLLED_BACK]
)
def test_a_decided_card_has_no_buttons(status):
    blocks = validated(render_card(approval_card(action(status=status, decided_by="U0CAROL"), ref="INC-1")).blocks)
    assert not [b for b in blocks if b["type"] == "actions"]


def test_a_forbidden_step_is_shown_without_buttons():
    blocks = validated(render_card(approval_card(action(decision=Decision.FORBIDDEN), ref="INC-1")).blocks)
    assert not [b for b in blocks if b["type"] == "actions"] and "policy forbids" in texts(blocks)


@pytest.fixture
def room(slack_emulator):
    slack_emulator.workspace.rate_limit_scale = None
    client = make_client("xoxb-test-token", base_url=slack_emulator.api_url)
    return RedactingChatRoom(SlackChatRoom(client, pacer=Pacer(scale=0)), Redactor())


async def test_the_output_goes_into_the_cards_thread_redacted(room, slack_workspace):
    channel = await room.create_channel("inc-20260301-web")
    card_ts = await room.post_card(channel.id, approval_card(replace(action()), ref="INC-1"))
    output = "deployment.apps/web rolled back\nnotify: ops@example.com"
    ts = await room.post_text(channel.id, Text.of("Output of a-0123456789ab:\n", output), marker="out",
                              thread_ts=card_ts)  # fmt: skip
    replies = [m for m in slack_workspace.replies(channel.id, card_ts) if m.ts != card_ts]
    assert [m.ts for m in replies] == [ts]
    assert "rolled back" in replies[0].text and "ops@example.com" not in replies[0].text
