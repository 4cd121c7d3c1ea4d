"""Durability: SIGKILL the bot (a real subprocess) between commit and delivery; restart; nothing lost or doubled."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from integrations.local_workspace import GENERAL_ID
from tests.e2e.harness import SIGNING_SECRET, TOKEN, BotProcess, eventually, free_port

pytestmark = pytest.mark.slow


async def api(bot: BotProcess, path: str) -> dict:
    async with httpx.AsyncClient(base_url=bot.url) as c:
        return (await c.get(path)).json()


async def test_sigkill_between_commit_and_delivery_then_restart(tmp_path, slack_workspace, slack_emulator):
    ws = slack_workspace
    ws.rate_limit_scale = None
    bot = BotProcess(tmp_path / "durable.db", slack_emulator.api_url, free_port(), tmp_path / "bot.log")
    ws.events_url = f"{bot.url}/slack/events"
    await bot.start()
    try:
        ws.hold("conversations.create")
        refs = []
        for title in ("Checkout is failing", "Search is slow", "Payments erroring"):
            r = await ws.send_command("U0ALICE", GENERAL_ID, f"declare SEV2 {title}")
            refs.append(r.json()["text"].split("*")[1])
        # A later event for the first incident: committed, waiting behind its declare.
        r = await ws.send_command("U0BOB", GENERAL_ID, f"ack {refs[0]}")
        assert "acknowledged" in r.json()["text"]
        await ws.wait_until_held("conversations.create", count=1, seconds=10)

        bot.kill()  # committed, not delivered: a create is on the wire and the rest are queued
        ws.release("conversations.create")  # Slack may still complete the request the bot never saw answered

        await bot.start()
        for ref in refs:
            await eventually(lambda ref=ref: _room_done(ws, ref), timeout=30)

        async def drained() -> bool:
            m = await api(bot, "/api/v1/incidents")
            return all(i["channel_id"] for i in m["incidents"])

        await eventually(drained, timeout=30)
        await asyncio.sleep(0.3)  # let any wrong duplicate surface before counting
        for ref in refs:
            inc = await api(bot, f"/api/v1/incidents/{ref}")
            rooms = [c for c in ws.channels() if c.name.startswith("inc-") and _has_card(ws, c.id, ref)]
            assert len(rooms) == 1, f"{ref} has {len(rooms)} rooms"
            assert inc["channel_id"] == rooms[0].id
            cards = [m for m in ws.messages(rooms[0].id) if _is_card(m, ref)]
            assert len(cards) == 1 and cards[0].pin is not None
        creates = [(c.args.get("name"), c.ok, c.error) for c in ws.calls_to("conversations.create")]
        # The create answered after the kill was never seen by the bot: the restart met name_taken and adopted it.
        assert ("inc-" + refs[0].split("-")[1] + "-checkout-is-failing", False, "name_taken") in creates
        same_name = [c for c in ws.channels() if "checkout-is-failing" in c.name]
        assert len(same_name) == 1, [c.name for c in same_name]
        ann = ws.channel_by_name("incidents")
        for ref in refs:
            assert len([m for m in ws.messages(ann.id) if ref in m.text and "declared" in m.text]) == 1
        first_room = next(c for c in ws.channels() if _has_card(ws, c.id, refs[0]))
        acks = [m for m in ws.messages(first_room.id) if "acknowledged the incident" in m.text]
        assert len(acks) == 1, "the queued ack was delivered exactly once"
    finally:
        ws.release("conversations.create")
        bot.stop()
    log = (tmp_path / "bot.log").read_text()
    assert TOKEN not in log and SIGNING_SECRET not in log


def _is_card(m, ref) -> bool:
    return any(b.get("block_id") == f"card:{ref}" for b in m.blocks or [])


def _has_card(ws, channel_id, ref) -> bool:
    return any(_is_card(m, ref) for m in ws.messages(channel_id))


def _room_done(ws, ref) -> bool:
    ann = ws.channel_by_name("incidents")
    return ann is not None and any(ref in m.text for m in ws.messages(ann.id))
