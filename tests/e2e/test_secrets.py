"""Secrets never reach logs, errors, chat or API answers (the test greps everything it captured)."""

from __future__ import annotations

import logging

from integrations.local_workspace import GENERAL_ID
from tests.e2e.harness import SIGNING_SECRET, TOKEN, eventually


async def test_no_secret_in_any_output(bot, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    ws = bot.workspace
    # Happy path, an error path (Slack refusing a call), a bad request and an unexpected reply shape.
    r = await ws.send_command("U0ALICE", GENERAL_ID, "declare SEV2 Token leak drill")
    ref = r.json()["text"].split("*")[1]
    await eventually(lambda: ws.channel_by_name("incidents"))
    await bot.idle()
    ws.inject_fault("chat.update", error="invalid_auth", count=1)
    await ws.send_command("U0ALICE", GENERAL_ID, f"ack {ref}")
    await bot.idle()
    await ws.send_command("U0ALICE", GENERAL_ID, f"note {ref} our token is {TOKEN} and secret {SIGNING_SECRET}")
    await ws.send_command("U0ALICE", GENERAL_ID, "sev SEV9")
    await bot.idle()
    logging.getLogger("warroom.test").error("direct log of %s / %s", TOKEN, SIGNING_SECRET)
    try:
        raise RuntimeError(f"boom {TOKEN}")
    except RuntimeError:
        logging.getLogger("warroom.test").exception("failure")

    captured = capsys.readouterr()
    chat = "\n".join(m.text + str(m.blocks) for ch in ws.channels() for m in ws.messages(ch.id))
    ephemeral = "\n".join(e.text for e in ws.ephemeral)
    api = (await bot.http.get(f"/api/v1/incidents/{ref}")).text
    replies = "\n".join(d.response or "" for d in ws.deliveries)
    timeline = (await ws.send_command("U0ALICE", GENERAL_ID, f"timeline {ref}")).text
    everything = "\n".join(
        [caplog.text, captured.out, captured.err, chat, ephemeral, replies, api, timeline, repr(bot.container.settings)]
    )
    assert "direct log of" in caplog.text and "failure" in caplog.text, "the logs were captured"
    assert "dead" in caplog.text or "invalid_auth" in caplog.text, "the error path ran"
    assert TOKEN not in everything
    assert SIGNING_SECRET not in everything
    # The note itself reached the timeline, with the secrets redacted on the way out to chat.
    assert "[redacted]" in chat
    assert "our token is [redacted]" in api
