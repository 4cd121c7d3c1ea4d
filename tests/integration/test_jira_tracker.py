"""The Jira adapter through the real `jira` library against a loopback Jira (REST API v2)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from bot.domain.incident import Severity, Status
from bot.domain.outbound import Attachment, Link, TicketDraft, TrackerRefused, TrackerUnavailable, ticket_label
from bot.domain.text import Icon, Mention, Strong, Text
from bot.redact import Redactor
from integrations.jira_tracker import JiraOptions, JiraTracker
from tests.servers.jira_server import JiraServer

TOKEN = "jira-test-token"


def draft(title: str = "checkout 5xx", **kw) -> TicketDraft:
    values = dict(
        ref="INC-20261123-001", label=ticket_label("INC-20261123-001"), title=title, severity=Severity.SEV1,
        status=Status.DECLARED, services=("checkout", "payments api"), description=Text.of("Why: ", Strong("errors")),
        links=(Link("War room", "https://slack.com/app_redirect?channel=C0123"),),
        declared_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )  # fmt: skip
    values.update(kw)
    return TicketDraft(**values)


@pytest.fixture
async def tracker(jira_server: JiraServer):
    t = JiraTracker(
        url=jira_server.url, user=jira_server.user, token=TOKEN, options=JiraOptions(project="OPS"),
        redact=Redactor([TOKEN]),
    )  # fmt: skip
    yield t
    await t.close()


async def test_create_maps_the_ticket_onto_fields(tracker, jira_server):
    key = await tracker.create(draft())
    assert key == "OPS-1"
    fields = jira_server.issues[key].fields
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "[SEV1] INC-20261123-001: checkout 5xx"
    assert fields["labels"] == ["warroom", "incident", "warroom-INC-20261123-001"]
    assert fields["priority"] == {"name": "High"}
    assert "*Severity:* SEV1" in fields["description"] and "*Services:* checkout, payments api" in fields["description"]
    assert "[War room|https://slack.com/app_redirect?channel=C0123]" in fields["description"]
    assert "Why: *errors*" in fields["description"]
    assert jira_server.calls("GET", r"/rest/api/2/serverInfo"), "the client asked serverInfo first"


async def test_field_mapping_is_configurable(jira_server):
    options = JiraOptions(
        project="OPS", issue_type="Incident", summary="{ref} {title}", labels=("ops",), priority_field=None,
        severity_field="customfield_10050", services_field="components", fields={"customfield_10001": {"id": "7"}},
    )  # fmt: skip
    t = JiraTracker(url=jira_server.url, user=jira_server.user, token=TOKEN, options=options)
    try:
        fields = jira_server.issues[await t.create(draft())].fields
    finally:
        await t.close()
    assert fields["issuetype"] == {"name": "Incident"} and fields["summary"] == "INC-20261123-001 checkout 5xx"
    assert "priority" not in fields and fields["customfield_10050"] == {"value": "SEV1"}
    assert fields["components"] == [{"name": "checkout"}, {"name": "payments api"}]
    assert fields["customfield_10001"] == {"id": "7"} and fields["labels"] == ["ops", "warroom-INC-20261123-001"]


async def test_find_by_label_comment_transition_attach(tracker, jira_server):
    assert await tracker.find(ticket_label("INC-20261123-001")) is None
    key = await tracker.create(draft())
    assert await tracker.find(ticket_label("INC-20261123-001")) == key
    assert await tracker.find(ticket_label("INC-20261123-002")) is None
    await tracker.comment(key, Text.of(Icon.ACKNOWLEDGED, " ", Mention("U0ALICE"), " acknowledged"))
    assert jira_server.issues[key].comments == ["(/) @U0ALICE acknowledged"]
    assert await tracker.transition(key, ["Resolve Issue", "done"]) == "Done"
    assert jira_server.issues[key].status == "Done"
    assert await tracker.transition(key, ["Start"]) is None, "no such transition from Done: nothing moves"
    assert await tracker.transition(key, ["Closed"]) == "Closed", "matched by the target status too"
    await tracker.attach(key, Attachment("postmortem.md", b"# Post-mortem\nmail bob@example.com\n", "text/markdown"))
    await tracker.attach(key, Attachment("chart.png", b"\x89PNG\r\n\x1a\n\x00bob@example.com", "image/png"))
    (md_name, md), (png_name, png) = jira_server.issues[key].attachments
    assert md_name == "postmortem.md" and md == b"# Post-mortem\nmail [redacted-email]\n"
    assert png_name == "chart.png" and png == b"\x89PNG\r\n\x1a\n\x00bob@example.com", "binary files pass as they are"


async def test_text_from_outside_is_escaped_not_markup(tracker, jira_server):
    evil = "[~admin] !https://evil.example/t.png! {html}<b>x</b>{html} *bold* [click|https://evil.example]"
    key = await tracker.create(draft(title=evil, description=Text.of(evil)))
    desc = jira_server.issues[key].fields["description"]
    assert "\\[\\~admin\\]" in desc and "\\!https://evil.example/t.png\\!" in desc and "\\{html\\}" in desc
    assert "[~admin]" not in desc
    assert "[click|" not in desc
    await tracker.comment(key, evil)
    assert jira_server.issues[key].comments[0].startswith("\\[\\~admin\\] \\!https")
    assert jira_server.issues[key].fields["summary"].startswith("[SEV1] INC-20261123-001: [~admin]"), "summary is plain"


async def test_unavailable_and_refused_errors_never_show_the_credentials(jira_server):
    t = JiraTracker(url=jira_server.url, user=jira_server.user, token=TOKEN, options=JiraOptions(project="OPS"))
    basic = base64.b64encode(f"{jira_server.user}:{TOKEN}".encode()).decode()
    try:
        await t.find("x")  # the client exists
        jira_server.mode = "503"
        with pytest.raises(TrackerUnavailable) as down:
            await t.create(draft())
        assert down.value.retry_after == 120
        jira_server.mode = "drop"
        with pytest.raises(TrackerUnavailable) as dropped:
            await t.comment("OPS-1", "x")
        jira_server.mode = "up"
        jira_server.fail_next = [400]
        with pytest.raises(TrackerRefused) as refused:
            await t.create(draft())
        for exc in (down.value, dropped.value, refused.value):
            text = f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
            assert TOKEN not in text and basic not in text, text
    finally:
        await t.close()


async def test_bad_credentials_are_refused_and_the_client_recovers_when_jira_returns(jira_server):
    bad = JiraTracker(url=jira_server.url, user=jira_server.user, token="wrong", options=JiraOptions(project="OPS"))
    try:
        with pytest.raises(TrackerRefused, match="HTTP 401"):
            await bad.create(draft())
    finally:
        await bad.close()
    jira_server.mode = "503"
    t = JiraTracker(url=jira_server.url, user=jira_server.user, token=TOKEN, options=JiraOptions(project="OPS"))
    try:
        with pytest.raises(TrackerUnavailable):
            await t.create(draft())  # the client cannot even be made (serverInfo)
        jira_server.mode = "up"
        assert await t.create(draft()) == "OPS-1"
    finally:
        await t.close()


async def test_a_huge_title_and_description_are_cut_to_jiras_limits(tracker, jira_server):
    key = await tracker.create(draft(title="t" * 5000, description=Text.of("d" * 100_000)))
    fields = jira_server.issues[key].fields
    assert len(fields["summary"]) == 255 and fields["summary"].endswith("…")
    assert len(fields["description"]) <= 32_000
