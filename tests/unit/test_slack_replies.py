"""Slack acks arrive within the deadline even when the work is slow; the answer follows via response_url."""

from __future__ import annotations

import asyncio

from bot.domain.text import Text, as_text
from bot.redact import Redactor
from bot.services.errors import IncidentNotFound
from handlers.slack.replies import WORKING, ack_with_result
from integrations.slack_rooms import mrkdwn


def plain(text: Text | str) -> str:
    return as_text(text).data()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[float, dict]] = []

    async def __call__(self, **kw):
        self.calls.append((asyncio.get_running_loop().time(), kw))


async def test_fast_work_is_the_ack():
    ack, respond = Recorder(), Recorder()

    async def work():
        return "done"

    await ack_with_result(ack, respond, work(), deadline=1.0, render=plain)
    assert [kw["text"] for _, kw in ack.calls] == ["done"] and respond.calls == []


async def test_slow_work_acks_first_and_responds_later():
    ack, respond = Recorder(), Recorder()
    gate = asyncio.Event()

    async def work():
        await gate.wait()
        return "finally done"

    task = asyncio.create_task(ack_with_result(ack, respond, work(), deadline=0.01, render=plain))
    while not ack.calls:
        await asyncio.sleep(0)
    assert ack.calls[0][1]["text"] == WORKING and respond.calls == []
    gate.set()
    await task
    assert respond.calls[0][1]["text"] == "finally done"
    assert respond.calls[0][1]["response_type"] == "ephemeral"


async def test_errors_become_clear_replies_and_are_redacted():
    ack, respond = Recorder(), Recorder()

    async def work():
        raise IncidentNotFound("no incident INC-20261123-042 (token xoxb-123)")

    redactor = Redactor(["xoxb-123"])
    await ack_with_result(ack, respond, work(), deadline=1.0, render=lambda t: mrkdwn.render(redactor.text(t)))
    text = ack.calls[0][1]["text"]
    assert "no incident INC-20261123-042" in text and "xoxb-123" not in text


async def test_replies_are_rendered_so_user_text_cannot_mention():
    ack, respond = Recorder(), Recorder()

    async def work():
        return Text.of(":white_check_mark: note added: ", "<!channel> a & b")

    await ack_with_result(ack, respond, work(), deadline=1.0, render=mrkdwn.render)
    assert ack.calls[0][1]["text"] == ":white_check_mark: note added: &lt;!channel&gt; a &amp; b"


async def test_unexpected_errors_are_hidden_behind_an_id():
    ack, respond = Recorder(), Recorder()

    async def work():
        raise KeyError("internal detail")

    await ack_with_result(ack, respond, work(), deadline=1.0, render=plain)
    text = ack.calls[0][1]["text"]
    assert "error id" in text and "internal detail" not in text
