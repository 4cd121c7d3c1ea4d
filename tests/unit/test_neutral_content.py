"""Services say what, never how: no platform markup in what they post or store, emphasis and icons as structure."""

from __future__ import annotations

import re

from bot.domain.cards import Card
from bot.domain.incident import Role, Severity
from bot.domain.text import Icon, Strong, Text
from bot.outbox import OutboxWorker, RetryPolicy
from bot.services import alerts, incidents
from tests.alert_builders import alert
from tests.builders import chat_reactors, deps_for, sqlite_store
from tests.fakes.chat import FakeChatRoom

# Slack's mrkdwn (and Discord's markdown): emoji codes, <@U..>/<#C..>/<!here> tokens, *bold*, _italic_, `code`.
MARKUP = re.compile(r":[a-z0-9_+-]+:|<[@#!][^>]*>|(?:^|\s)[*_`~]\S|\S[*_`~](?:\s|$)")


async def test_what_the_reactors_post_and_the_services_store_holds_no_chat_markup(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    chat = FakeChatRoom()
    chat_reactors(deps, chat, oncall=["U0ONCALL"])
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(jitter=0))
    try:
        ref = (
            await incidents.declare(deps, title="Checkout is failing", severity=Severity.SEV3, actor="U0A")
        ).incident.ref
        await incidents.take_lead(deps, ref=ref, actor="U0B")
        await incidents.assign_role(deps, ref=ref, role=Role.SCRIBE, user_id="U0C", actor="U0B")
        await incidents.change_severity(deps, ref=ref, severity=Severity.SEV1, actor="U0B", reason="customers")
        await incidents.add_note(deps, ref=ref, actor="U0B", text="looking at dashboards")
        await incidents.post_update(deps, ref=ref, actor="U0B", text="rolled back")
        await incidents.resolve(deps, ref=ref, actor="U0B", summary="fixed")
        firing = await alerts.ingest(deps, [alert(pod="a")], source="alertmanager")
        await alerts.ingest(deps, [alert(pod="a", status="resolved")], source="alertmanager")
        await worker.drain()
        posted: list[Text] = [m.parts for c in chat.channels.values() for m in c.messages if m.parts is not None] + [
            c.topic_parts for c in chat.channels.values() if c.topic_parts is not None
        ]
        assert len(posted) >= 10
        bot_words = [p for t in posted for p in t if isinstance(p, str)]
        assert [w for w in bot_words if MARKUP.search(w)] == []
        icons = {p for t in posted for p in t if isinstance(p, Icon)}
        assert {Icon.ALERT, Icon.PERSON, Icon.NOTE, Icon.UPDATE, Icon.DONE, Icon.ALL_CLEAR} <= icons
        assert any(isinstance(p, Strong) for t in posted for p in t), "emphasis is structure"
        cards = [m.card for c in chat.channels.values() for m in c.messages if m.card is not None]
        assert cards and all(isinstance(card, Card) for card in cards)
        for r in (ref, *firing.declared):
            _, events = await incidents.timeline(deps, ref=r)
            assert [e.text for e in events if MARKUP.search(e.text)] == [], "stored sentences the API shows"
    finally:
        await store.dispose()
