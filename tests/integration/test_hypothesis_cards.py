"""Hypothesis cards on Slack: Block Kit validated by slack_sdk's models, outside text escaped, Slack's limits
kept, links to Prometheus and the CloudWatch console; charts drawn by matplotlib and uploaded with
files_upload_v2 into the card's thread on the emulator, which serves them back as images."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from slack_sdk.models.blocks import Block

from bot.domain.causes import Cause
from bot.domain.evidence_links import EvidenceLinks
from bot.domain.hypotheses import Evidence, Status, Verdict
from bot.domain.hypothesis_cards import Chart, chart_of, hypothesis_card
from bot.domain.metrics import Series
from bot.domain.root_cause import StoredHypothesis
from bot.redact import RedactingChatRoom, Redactor
from integrations.charts import MatplotlibCharts
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.blocks import render_card
from integrations.slack_rooms.pacing import Pacer
from integrations.slack_rooms.rooms import validated

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LINKS = EvidenceLinks("http://prometheus.internal:9090", "eu-west-1")


def stored(**kw) -> StoredHypothesis:
    base = dict(
        id="h-0123456789abcdef", incident_id=1, title="A recent rollout of web broke it", service="web",
        cause=Cause.BAD_DEPLOY, prior=0.2, posterior=0.7, scored_at=AT, rank=1, runbook="error-rate-spike",
        evidence=(
            Evidence('max(changes(kube_deployment_metadata_generation{deployment="web"}[30m]))', Verdict.SUPPORTS,
                     1.0, 0.5, 5.0, "value 1 > 0.5"),
            Evidence("cloudwatch:AWS/ApplicationELB/HTTPCode_Target_5XX_Count{LoadBalancer=app/web/1} Sum 60s",
                     Verdict.CONTRADICTS, 0.0, 1.0, 0.25, "value 0 < 1", "cloudwatch_metric"),
            Evidence("logs:/aws/lambda/web ERROR", Verdict.INCONCLUSIVE, None, 10.0, 1.0, "timed out",
                     "cloudwatch_logs"),
        ),
    )  # fmt: skip
    base.update(kw)
    return StoredHypothesis(**base)


def mrkdwn_texts(blocks: list[dict]) -> list[str]:
    out = []
    for b in blocks:
        for obj in [b.get("text"), *(b.get("fields") or []), *(b.get("elements") or [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                out.append(obj["text"])
    return out


def test_the_card_is_valid_block_kit_with_evidence_links_and_buttons():
    card = hypothesis_card(stored(), ref="INC-20260301-001", anchor=AT, links=LINKS)
    blocks = validated(render_card(card).blocks)
    for b in blocks:
        Block.parse(b).validate_json()
    assert blocks[0]["block_id"] == "hypothesis:h-0123456789abcdef"
    text = "\n".join(mrkdwn_texts(blocks))
    assert "20% → *70%*" in text and "`bad_deploy`" in text and "*web*" in text
    assert "observed 1 · threshold 0.5" in text
    assert "<http://prometheus.internal:9090/graph?g0.expr=max%28changes" in text
    assert "#metricsV2:graph=" in text and "#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fweb" in text
    actions = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"]) for e in actions] == [
        ("hypothesis-confirm", "h-0123456789abcdef"),
        ("hypothesis-reject", "h-0123456789abcdef"),
    ]


def test_outside_text_is_escaped_and_cannot_mention_or_link():
    hostile = stored(
        title="<!channel> *rollout* <https://evil.example|click>",
        service="<@U0ADMIN>",
        evidence=(Evidence('up{x="<!here>"} `rm -rf`', Verdict.SUPPORTS, 2.0, 1.0, 4.0, "<#C0PRIVATE> & co"),),
    )
    blocks = validated(render_card(hypothesis_card(hostile, ref="INC-1", anchor=AT, links=EvidenceLinks())).blocks)
    text = "\n".join(mrkdwn_texts(blocks))
    for live in ("<!channel>", "<!here>", "<@U0ADMIN>", "<#C0PRIVATE>", "<https://evil"):
        assert live not in text
    assert "&lt;!channel&gt;" in text and "&amp; co" in text


def test_a_huge_card_stays_within_slacks_limits():
    evidence = tuple(
        Evidence("x" * 4000, Verdict.SUPPORTS, 1.0, 0.5, 2.0, "d" * 3000) for _ in range(12)
    )  # fmt: skip
    big = stored(title="t" * 250, evidence=evidence, service="s" * 253)
    blocks = validated(render_card(hypothesis_card(big, ref="INC-1", anchor=AT, links=LINKS)).blocks)
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in mrkdwn_texts(blocks))


def test_decided_and_closed_cards_show_it():
    card = hypothesis_card(
        stored(status=Status.CONFIRMED, decided_by="U0BOB", rank=None), ref="INC-1", anchor=AT, links=LINKS,
        actionable=False,
    )  # fmt: skip
    blocks = validated(render_card(card).blocks)
    text = "\n".join(mrkdwn_texts(blocks))
    assert "confirmed root cause* by <@U0BOB>" in text and "not among the top" in text
    assert not [b for b in blocks if b["type"] == "actions"]


def chart() -> Chart:
    points = tuple((AT.timestamp() - 3600 + 60 * i, 0.01 if i < 58 else 0.3) for i in range(70))
    h = stored()
    return chart_of(h, h.evidence[0], [Series({"service": "web"}, points)], start=AT.timestamp() - 120)


def test_matplotlib_draws_a_small_png_with_band_threshold_and_start():
    c = chart()
    assert c.band is not None and c.band[0] <= 0.01 <= c.band[1] and c.threshold == 0.5
    png = MatplotlibCharts().render(c)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and 2_000 < len(png) < 150_000


@pytest.fixture
def room(slack_emulator):
    slack_emulator.workspace.rate_limit_scale = None
    client = make_client("xoxb-test-token", base_url=slack_emulator.api_url)
    return RedactingChatRoom(SlackChatRoom(client, pacer=Pacer(scale=0)), Redactor())


async def test_a_chart_goes_into_the_cards_thread_with_files_upload_v2(room, slack_workspace, slack_emulator):
    channel = await room.create_channel("inc-20260301-web")
    card_ts = await room.post_card(channel.id, hypothesis_card(stored(), ref="INC-1", anchor=AT, links=LINKS))
    png = MatplotlibCharts().render(chart())
    file_id = await room.upload_image(
        channel.id, thread_ts=card_ts, filename="h.png", content=png, title="rollout of web: value 1 > 0.5",
        alt_text="Chart of the rollout query",
    )  # fmt: skip
    assert file_id.startswith("F")
    replies = [m for m in slack_workspace.replies(channel.id, card_ts) if m.ts != card_ts]
    assert len(replies) == 1 and replies[0].files and replies[0].files[0]["id"] == file_id
    shared = replies[0].files[0]
    assert shared["mimetype"] == "image/png" and shared["title"] == "rollout of web: value 1 > 0.5"
    async with httpx.AsyncClient() as http:
        got = await http.get(shared["url_private"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png" and got.content == png


def test_a_prometheus_url_with_credentials_never_reaches_a_link():
    links = EvidenceLinks("https://grafana:s3cret-pw@prom.internal:9090/prometheus/")
    url = links.link(stored().evidence[0], AT)
    assert url is not None and url.startswith("https://prom.internal:9090/prometheus/graph?g0.expr=")
    assert "s3cret" not in url and "grafana" not in url
