"""Content attacks through the whole stack: mentions typed by users or sent by alerts never notify anyone,
secrets never reach Slack or the API (channel names included), invisible and bidi characters are dropped.

The emulator records every Web API call the bot made; the tests read every string argument of every call
(channel names, topics, texts, blocks, ephemeral messages), every reply to a command, and the API answers.
"""

from __future__ import annotations

import json
import re

import pytest_asyncio

from bot.config import parse_config
from integrations.local_workspace import GENERAL_ID
from tests.alert_builders import am_alert, am_body
from tests.e2e.conftest import CONFIG
from tests.e2e.harness import ALERT_TOKEN, bot_settings, eventually, start_bot

API_TOKEN = "apitoken-s3cr3t-value"
TOKEN = re.compile(r"<[^<>]*>")
INVISIBLE = ("\u202e", "\u200b", "\u2066", "\u2069", "\u200f", "\ufeff")


@pytest_asyncio.fixture
async def bot(tmp_path, slack_workspace, slack_emulator):
    slack_workspace.rate_limit_scale = None
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", slack_emulator.api_url, WARROOM_API_TOKEN=API_TOKEN
    )
    running = await start_bot(settings, slack_workspace, parse_config(CONFIG))
    yield running
    await running.stop()


def outgoing(ws) -> tuple[list[str], list[str]]:
    """Every string the bot sent to Slack: (mrkdwn-parsed ones, Block Kit plain_text ones), replies included."""
    parsed: list[str] = []
    plain: list[str] = []

    def walk(node, key=None):
        if isinstance(node, dict):
            if node.get("type") == "plain_text" and isinstance(node.get("text"), str):
                plain.append(node["text"])
                return
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key not in ("channel", "ts", "users", "user", "cursor", "types", "trigger_id"):
            parsed.append(node)

    for call in ws.calls:
        walk(call.args)
    for delivery in ws.deliveries:  # the bot's answers to commands and clicks (the ack's body)
        if delivery.response and delivery.response.startswith("{"):
            walk(json.loads(delivery.response))
    for note in ws.ephemeral:  # response_url replies and chat.postEphemeral
        walk(note.text)
    return parsed, plain


def live_tokens(texts: list[str]) -> set[str]:
    """The `<...>` tokens Slack would act on, Slack's own date tokens left out."""
    return {t for text in texts for t in TOKEN.findall(text) if not t.startswith("<!date^")}


async def declare(bot, text):
    r = await bot.workspace.send_command("U0ALICE", GENERAL_ID, text)
    assert r.status_code == 200, r.text
    ref = r.json()["text"].split("*")[1]
    room = await eventually(lambda: next((c for c in bot.workspace.channels() if c.name.startswith("inc-")), None))
    await bot.idle()
    return ref, room


async def test_mentions_typed_by_users_never_become_mentions(bot):
    ws = bot.workspace
    # With should_escape, Slack delivers a typed "@channel" as <!channel>, and "<" typed by a user as &lt;.
    ref, room = await declare(bot, "declare SEV2 <!channel> payments down &amp; <@U0VICTIM|victim>")
    for text in ("note <!here> look at <https://evil.example|login>", "sev SEV1 <!channel> it is worse", "lead"):
        r = await ws.send_command("U0ALICE", room.id, text)
        assert r.status_code == 200 and "warning" not in r.text, r.text
    await ws.send_command("U0ALICE", room.id, "status")
    await ws.send_command("U0ALICE", room.id, "timeline")
    await ws.send_command("U0ALICE", room.id, "<!everyone>")  # an unknown subcommand is echoed in the help
    await ws.send_command("U0ALICE", GENERAL_ID, "declare")  # the modal path: its text is raw, not Slack-escaped
    view = await eventually(lambda: next(iter(ws.views.values()), None))
    await ws.submit_view(
        "U0ALICE",
        view.id,
        {
            "title": {"type": "plain_text_input", "value": "<!channel> second outage"},
            "severity": {"type": "static_select", "selected_option": {"value": "SEV3"}},
        },
    )
    await eventually(lambda: ws.calls_to("chat.postEphemeral"))  # the courtesy confirmation (text checked below)
    await bot.idle()

    parsed, plain = outgoing(ws)
    announcements = ws.channel_by_name("incidents")
    rooms = {c.id for c in ws.channels() if c.name.startswith("inc-")}
    # U0BOB: on call, mentioned by the escalation that raising the severity triggers (the bot's own choice).
    allowed = {"<@U0ALICE>", "<@U0BOB>"} | {f"<#{r}>" for r in rooms}
    assert live_tokens(parsed) <= allowed, live_tokens(parsed) - allowed
    assert "<@U0ALICE>" in ws.channel(room.id).topic["value"], "the commander the bot chose is still a mention"
    ann = [m.text for m in ws.messages(announcements.id)]
    assert any(ref in t and f"<#{room.id}>" in t for t in ann)
    # What people typed is shown, escaped exactly once: Slack displays it as it was typed.
    everything = "\n".join(parsed)
    assert "@channel payments down &amp; @victim" in everything
    assert "&lt;!channel&gt; second outage" in everything
    assert "&amp;amp;" not in everything and "&amp;lt;" not in everything
    assert not any("<!" in p for p in plain if not p.startswith("INC-")), "only titles appear in plain_text"
    assert room.name == f"inc-{ref.split('-')[1]}-channel-payments-down-victim"


async def test_alert_text_is_escaped_redacted_and_cleaned_everywhere(bot):
    ws = bot.workspace
    summary = (
        "<!channel> <!here> <https://evil.example|login> password=hunter2 AKIAIOSFODNN7EXAMPLE "
        f"alice@example.com {ALERT_TOKEN} \u202egnp.exe\u200b \u2066x\u2069\u200f\ufeff"
    )
    body = am_body(am_alert(severity="critical", service=API_TOKEN, summary=summary))
    async with bot.http as http:
        r = await http.post("/webhooks/alertmanager", json=body, headers={"Authorization": f"Bearer {ALERT_TOKEN}"})
    assert r.status_code == 202, r.text
    [ref] = r.json()["incidents"]
    room = await eventually(lambda: next((c for c in ws.channels() if c.name.startswith("inc-")), None))
    await bot.idle()

    parsed, plain = outgoing(ws)
    secrets = ("hunter2", "AKIAIOSFODNN7EXAMPLE", "alice@example.com", ALERT_TOKEN, API_TOKEN)
    for text in parsed + plain + [room.name]:
        for leak in (*secrets, *INVISIBLE):
            assert leak not in text, (leak, text)
    for leak in ("hunter2", "akiaiosfodnn7example", "alice", "example-com", "alert-token", "apitoken"):
        assert leak not in room.name
    assert live_tokens(parsed) <= {f"<#{room.id}>"}, live_tokens(parsed)
    card = next(m for m in ws.messages(room.id) if any(b.get("block_id") == f"card:{ref}" for b in m.blocks or []))
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;https://evil.example|login&gt;" in card.text, "the link shows, inert"
    assert "&lt;!channel&gt;" in ws.channel(room.id).topic["value"]
    ann = ws.channel_by_name("incidents")
    assert any("&lt;https://evil.example|login&gt;" in m.text for m in ws.messages(ann.id))

    async with bot.http as http:
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        answers = [(await http.get(p, headers=auth)).text for p in ("/api/v1/incidents", f"/api/v1/incidents/{ref}")]
    for text in answers:
        for leak in (*secrets, *INVISIBLE):
            assert leak not in json.loads(text).__repr__() and leak not in text, leak
    inc = json.loads(answers[1])
    assert inc["services"] == ["[redacted]"] and inc["channel_name"] == room.name
