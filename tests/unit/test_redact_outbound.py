"""Redaction on the way to a tracker, a broadcast channel and JSON APIs (PagerDuty's events)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.incident import Severity, Status
from bot.domain.outbound import Attachment, Link, Notice, NoticeField, TicketDraft
from bot.domain.text import Mention, Text
from bot.redact import Redactor
from bot.redact_outbound import RedactingBroadcaster, RedactingTracker

SECRET = "s3cr3t-config-value"
LEAKS = (SECRET, "bob@example.com", "8.8.8.8")
DIRTY = f"mail bob@example.com from 8.8.8.8 key {SECRET}"


class Recorder:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        async def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return "OPS-1"

        return record


def leaked(value) -> list[str]:
    return [x for x in LEAKS if x in repr(value)]


async def test_tickets_comments_links_and_text_files_are_redacted_binary_files_pass():
    inner = Recorder()
    tracker = RedactingTracker(inner, Redactor([SECRET]))
    draft = TicketDraft(
        ref="INC-20261123-001", label="warroom-INC-20261123-001", title=DIRTY, severity=Severity.SEV2,
        status=Status.DECLARED, services=(DIRTY,), description=Text.of(DIRTY, Mention("U0ALICE")),
        links=(Link(DIRTY, f"https://x.example/?u=bob@example.com&k={SECRET}"),),
        declared_at=datetime(2026, 11, 23, tzinfo=UTC),
    )  # fmt: skip
    await tracker.create(draft)
    await tracker.update("OPS-1", draft)
    await tracker.comment("OPS-1", Text.of(DIRTY), [Link("l", f"https://x.example/{SECRET}")])
    await tracker.attach("OPS-1", Attachment(f"pm-{SECRET}.md", DIRTY.encode(), "text/markdown"))
    await tracker.attach("OPS-1", Attachment("chart.png", b"\x89PNG" + DIRTY.encode(), "image/png"))
    assert [leaked(c) for c in inner.calls[:-1]] == [[], [], [], []]
    created = inner.calls[0][1][0]
    assert created.ref == "INC-20261123-001" and created.label == "warroom-INC-20261123-001", "ids untouched"
    assert Mention("U0ALICE") in created.description.parts
    png = inner.calls[-1][1][1]
    assert png.data == b"\x89PNG" + DIRTY.encode(), "a binary file is not text to redact"


async def test_notices_headline_and_text_files_are_redacted():
    inner = Recorder()
    channel = RedactingBroadcaster(inner, Redactor([SECRET]))
    notice = Notice(DIRTY, Text.of(DIRTY), (NoticeField(DIRTY, Text.of(DIRTY)),), footer=DIRTY,
                    links=(Link(DIRTY, "https://x.example"),))  # fmt: skip
    await channel.broadcast([notice], headline=DIRTY, files=[Attachment("a.txt", DIRTY.encode(), "text/plain")])
    assert leaked(inner.calls) == []


def test_json_payloads_are_redacted_however_deep():
    payload = {
        "routing_key": "kept", "event_action": "trigger",
        "payload": {"summary": DIRTY, "custom_details": {DIRTY: [DIRTY, {"x": DIRTY}], "n": 3, "ok": True}},
    }  # fmt: skip
    out = Redactor([SECRET]).json(payload)
    assert leaked(out) == [] and out["payload"]["custom_details"]["n"] == 3 and out["event_action"] == "trigger"
