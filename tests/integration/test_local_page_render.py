"""The page in a real Chromium against the bare emulator: how it renders Block Kit and mrkdwn (data as text),
the signed interactions its buttons, menus and modals send, live updates and the Web API refusals it shows.

The app side is a recording HTTP server that checks each request's Slack signature; messages are posted with
slack_sdk's WebClient, as an app would. One emulator and one browser for the module.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from integrations.local_workspace import GENERAL_ID, OPS_ALERTS_ID, EmulatorServer, Workspace
from tests.browser import PageErrors, chromium
from tests.servers.slack_emulator import SLACK_TEST_SIGNING_SECRET, SLACK_TEST_TOKEN

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
CHART = "https://charts.example/latency.png"


class App:
    """The app's /slack/events: records each payload whose signature is valid, answers with `reply`."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.unsigned = 0
        self.reply: dict[str, Any] | None = None
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        verifier = SignatureVerifier(SLACK_TEST_SIGNING_SECRET)
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with app.arrived:
                    if verifier.is_valid_request(body, dict(self.headers)):
                        form = dict(urllib.parse.parse_qsl(body.decode()))
                        app.payloads.append(json.loads(form["payload"]) if "payload" in form else form)
                    else:
                        app.unsigned += 1
                    app.arrived.notify_all()
                    reply = json.dumps(app.reply).encode() if app.reply is not None else b""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.payloads) >= count, timeout), self.payloads
            return list(self.payloads)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    recorder = App()
    yield recorder
    recorder.close()


@pytest.fixture(scope="module")
def server(app: App) -> Iterator[EmulatorServer]:
    ws = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, events_url=app.url, rate_limit_scale=None)
    emulator = EmulatorServer(ws)
    emulator.start_in_thread()
    yield emulator
    emulator.stop_thread()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def ws(server: EmulatorServer, app: App) -> Iterator[Workspace]:
    server.workspace.reset()
    with app.lock:
        app.payloads.clear()
        app.unsigned = 0
        app.reply = None
    yield server.workspace


@pytest.fixture
def slack(server: EmulatorServer) -> WebClient:
    return WebClient(token=SLACK_TEST_TOKEN, base_url=server.api_url)


@pytest.fixture
def page(browser: Any, server: EmulatorServer, ws: Workspace) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route(CHART, lambda route: route.fulfill(status=200, content_type="image/png", body=PNG))
    yield page
    context.close()


def expect(*args: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args)


def open_channel(page: Any, server: EmulatorServer, channel: str) -> PageErrors:
    errors = PageErrors(page)
    page.goto(f"{server.url}/#{channel}")
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("body")).to_have_attribute("data-channel", channel)
    return errors


def message(page: Any, ts: str) -> Any:
    return page.locator(f'article.message[data-ts="{ts}"]')


def text(kind: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "text": value, **extra}


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": text("plain_text", label), "value": value}


CARD = [
    {"type": "header", "text": text("plain_text", "Deploy <b>v2</b> :rocket:")},
    {
        "type": "section",
        "block_id": "facts",
        "text": text(
            "mrkdwn",
            "*bold* _italic_ ~strike~ `x < y` <https://docs.example/run?a=1&amp;b=2|the runbook> <@U0BOB> "
            "<#C0GENERAL> <!here> <!date^1700000000^{date_num}|2023-11-14> :fire:\n> quoted\n```keep *this* raw```",
        ),
        "fields": [text("mrkdwn", "*Status*\nopen"), text("plain_text", "Owner: *nobody*")],
        "accessory": {"type": "button", "action_id": "open-thing", "text": text("plain_text", "Open"), "value": "7"},
    },
    {
        "type": "context",
        "elements": [text("mrkdwn", "_small print_"), {"type": "image", "image_url": CHART, "alt_text": "dot"}],
    },
    {"type": "divider"},
    {"type": "image", "image_url": CHART, "alt_text": "p99 latency", "title": text("plain_text", "Latency")},
    {
        "type": "actions",
        "block_id": "buttons",
        "elements": [
            {
                "type": "button",
                "action_id": "incident-ack",
                "text": text("plain_text", "Acknowledge"),
                "value": "INC-1",
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "incident-resolve",
                "text": text("plain_text", "Resolve"),
                "value": "INC-1",
                "style": "danger",
                "confirm": {
                    "title": text("plain_text", "Resolve incident?"),
                    "text": text("mrkdwn", "Mark *INC-1* as resolved."),
                    "confirm": text("plain_text", "Resolve"),
                    "deny": text("plain_text", "Keep open"),
                },
            },
            {
                "type": "static_select",
                "action_id": "incident-severity",
                "placeholder": text("plain_text", "Change severity"),
                "option_groups": [
                    {"label": text("plain_text", "High"), "options": [option("SEV1", "INC-1:SEV1")]},
                    {"label": text("plain_text", "Low"), "options": [option("SEV3", "INC-1:SEV3")]},
                ],
            },
        ],
    },
]


def test_block_kit_is_laid_out_as_slack_shows_it(ws, slack, page, server):
    posted = slack.chat_postMessage(channel=OPS_ALERTS_ID, text="fallback", blocks=CARD)
    slack.chat_postMessage(channel=OPS_ALERTS_ID, text="a *reply* in the thread", thread_ts=posted["ts"])
    slack.pins_add(channel=OPS_ALERTS_ID, timestamp=posted["ts"])
    slack.reactions_add(channel=OPS_ALERTS_ID, timestamp=posted["ts"], name="eyes")
    errors = open_channel(page, server, OPS_ALERTS_ID)
    card = message(page, posted["ts"])
    expect(card.locator(".bk-header")).to_have_text("Deploy <b>v2</b> \U0001f680")
    assert card.locator(".bk-header b").count() == 0
    facts = card.locator('[data-block-id="facts"]')
    expect(facts.locator("strong").first).to_have_text("bold")
    expect(facts.locator("em").first).to_have_text("italic")
    expect(facts.locator("s")).to_have_text("strike")
    expect(facts.locator("code")).to_have_text("x < y")
    link = facts.get_by_role("link", name="the runbook")
    expect(link).to_have_attribute("href", "https://docs.example/run?a=1&b=2")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(facts.locator(".mention").first).to_have_text("@bob")
    expect(facts.locator(".channel-link")).to_have_text("#general")
    expect(facts.locator(".special")).to_have_text("@here")
    expect(facts.locator("time")).to_have_text("2023-11-14")
    expect(facts.locator("blockquote")).to_have_text("quoted")
    expect(facts.locator("pre")).to_have_text("keep *this* raw")
    expect(facts).to_contain_text("\U0001f525")
    expect(facts.locator(".bk-fields > *")).to_have_text(["Status\nopen", "Owner: *nobody*"], use_inner_text=True)
    expect(facts.locator(".bk-accessory").get_by_role("button", name="Open")).to_be_visible()
    expect(card.locator(".bk-context")).to_contain_text("small print")
    expect(card.locator("hr.bk-divider")).to_have_count(1)
    chart = card.locator("figure.bk-image img")
    expect(chart).to_have_attribute("alt", "p99 latency")
    expect(card.locator("figure.bk-image figcaption")).to_have_text("Latency")
    page.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=chart.element_handle())
    expect(card.get_by_role("button", name="Acknowledge")).to_have_class("bk-button primary")
    expect(card.get_by_role("button", name="Resolve")).to_have_class("bk-button danger")
    severity = card.get_by_role("combobox", name="Change severity")
    expect(severity.locator("optgroup")).to_have_count(2)
    expect(card.locator(".pinned")).to_be_visible()
    expect(card.locator(".reaction")).to_have_text("\U0001f440 1")
    expect(card.locator(".thread-count")).to_have_text("1 reply")
    expect(card.locator("article.reply strong")).to_have_text("reply")
    errors.assert_none()


EVIL = [
    {"type": "header", "text": text("plain_text", "<img src=x onerror=window.__pwned=1>")},
    {"type": "image", "image_url": "http://plain.example/x.png", "alt_text": "over plain http"},
    {
        "type": "section",
        "text": text(
            "mrkdwn",
            "&lt;script&gt;window.__pwned=2&lt;/script&gt; &lt;img src=x onerror=window.__pwned=3&gt; "
            "<javascript:window.__pwned=4|click me> <data:text/html,<b>x</b>|data link> slot:\ue000 "
            "<https://ok.example/|fine> <@U0BOB|&lt;b&gt;bob&lt;/b&gt;>",
        ),
    },
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "b", "text": text("plain_text", "<b>btn</b>")},
            {
                "type": "button",
                "action_id": "u",
                "text": text("plain_text", "go"),
                "url": "javascript:window.__pwned=6",
            },
            {
                "type": "static_select",
                "action_id": "s",
                "placeholder": text("plain_text", "<i>pick</i>"),
                "options": [option("<i>opt</i>", "o")],
            },
        ],
    },
]


def test_text_from_anywhere_is_shown_as_text(ws, slack, page, server):
    posted = slack.chat_postMessage(channel=OPS_ALERTS_ID, text="x", blocks=EVIL)
    errors = open_channel(page, server, OPS_ALERTS_ID)
    card = message(page, posted["ts"])
    expect(card.locator(".bk-header")).to_have_text("<img src=x onerror=window.__pwned=1>")
    body = card.locator(".bk-section")
    expect(body).to_contain_text("<script>window.__pwned=2</script> <img src=x onerror=window.__pwned=3>")
    expect(body).to_contain_text("click me")
    expect(body).to_contain_text("slot:\ufffd")  # our token slots cannot be forged from data
    assert body.get_by_text("click me").evaluate("n => n.closest('a')") is None
    assert [a.get_attribute("href") for a in body.locator("a").all()] == ["https://ok.example/"]
    expect(body.locator(".mention")).to_have_text("@<b>bob</b>")
    expect(card.get_by_role("button", name="<b>btn</b>")).to_be_visible()
    expect(card.locator("option", has_text="<i>opt</i>")).to_have_count(1)
    # a person's message goes through the page's composer and comes back as rich_text
    page.get_by_label("Message or /incident command").fill("<img src=x onerror=window.__pwned=5> *not markup*")
    page.get_by_label("Message or /incident command").press("Enter")
    expect(page.locator(".bk-rich-text")).to_have_text("<img src=x onerror=window.__pwned=5> *not markup*")
    body.get_by_text("click me").click()
    card.get_by_role("button", name="go").click()  # a button's url opens only when it is http(s)
    expect(card.get_by_role("button", name="go")).to_be_enabled()
    expect(card.locator(".image-missing")).to_have_text("[image: over plain http]")
    assert len(page.context.pages) == 1
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#messages img, #messages script, #messages b, #messages i").count() == 0
    errors.assert_none()


def test_buttons_menus_and_confirmations_send_signed_interactions(ws, slack, page, server, app):
    posted = slack.chat_postMessage(channel=OPS_ALERTS_ID, text="card", blocks=CARD)
    # Acting as Dave from the first load (the page keeps the choice in localStorage): a switch right before the
    # click raced the page's refresh in loaded runs (the click went out as Alice). Switching is tested elsewhere.
    page.add_init_script("localStorage.setItem('warroom.user', 'U0DAVE')")
    errors = open_channel(page, server, OPS_ALERTS_ID)
    expect(page.get_by_label("Acting as")).to_have_value("U0DAVE")
    card = message(page, posted["ts"])
    card.get_by_role("button", name="Acknowledge").click()
    first = app.wait_for(1)[0]
    assert (first["type"], first["user"]["id"], first["channel"]["id"]) == ("block_actions", "U0DAVE", OPS_ALERTS_ID)
    assert (first["actions"][0]["action_id"], first["actions"][0]["value"]) == ("incident-ack", "INC-1")
    assert first["container"]["message_ts"] == posted["ts"] and first["message"]["blocks"][0]["type"] == "header"

    # A switch takes effect at once: the next click goes out as the new user even while the page has not
    # re-rendered yet (its refresh is held here until the click is in).
    held: list[Any] = []
    refreshes = re.compile(r"/_emulator/page\?")

    def hold(route: Any) -> None:
        held.append(route)

    page.route(refreshes, hold)
    page.get_by_label("Acting as").select_option("U0CAROL")
    card.get_by_role("combobox", name="Change severity").select_option("INC-1:SEV3")
    chosen = app.wait_for(2)[1]
    assert held, "the refresh after the switch was not held"
    page.unroute(refreshes, hold)
    for route in held:
        route.continue_()
    expect(page.locator("body")).to_have_attribute("data-user", "U0CAROL")
    assert chosen["user"]["id"] == "U0CAROL"
    assert (chosen["actions"][0]["action_id"], chosen["actions"][0]["selected_option"]["value"]) == (
        "incident-severity",
        "INC-1:SEV3",
    )

    card.get_by_role("button", name="Resolve").click()
    dialog = page.get_by_role("dialog", name="Resolve incident?")
    expect(dialog).to_contain_text("Mark INC-1 as resolved.")
    dialog.get_by_role("button", name="Keep open").click()
    expect(dialog).to_be_hidden()
    card.get_by_role("button", name="Resolve").click()
    dialog.get_by_role("button", name="Resolve").click()
    resolved = app.wait_for(3)
    assert len(resolved) == 3 and resolved[2]["actions"][0]["action_id"] == "incident-resolve"
    assert app.unsigned == 0
    errors.assert_none()


MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": text("plain_text", "Declare an incident"),
    "submit": text("plain_text", "Declare"),
    "close": text("plain_text", "Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": text("plain_text", "What is broken?"),
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": text("plain_text", "Severity"),
            "element": {
                "type": "static_select",
                "action_id": "sev",
                "initial_option": option("SEV3", "SEV3"),
                "options": [option("SEV2", "SEV2"), option("SEV3", "SEV3")],
            },
        },
        {
            "type": "input",
            "block_id": "what",
            "optional": True,
            "label": text("plain_text", "Details"),
            "element": {"type": "plain_text_input", "action_id": "what", "multiline": True},
        },
    ],
}


def test_a_modal_is_submitted_with_its_state_and_shows_the_apps_errors(ws, slack, page, server, app):
    errors = open_channel(page, server, GENERAL_ID)
    opened = slack.views_open(trigger_id=ws.new_trigger_id("U0ALICE"), view=MODAL)["view"]
    modal = page.get_by_role("dialog", name="Declare an incident")
    expect(modal).to_be_visible()
    app.reply = {"response_action": "errors", "errors": {"title": "Say more than that."}}
    modal.get_by_label("What is broken?").fill("db")
    modal.get_by_label("Severity").select_option("SEV2")
    modal.get_by_role("button", name="Declare").click()
    expect(modal.locator('[data-block-id="title"] .field-error')).to_have_text("Say more than that.")
    submitted = app.wait_for(1)[0]
    assert submitted["type"] == "view_submission" and submitted["view"]["id"] == opened["id"]
    values = submitted["view"]["state"]["values"]
    assert values["title"]["title"]["value"] == "db"
    assert values["sev"]["sev"]["selected_option"]["value"] == "SEV2"

    app.reply = None
    modal.get_by_label("What is broken?").fill("Checkout database is down")
    modal.get_by_label("Details").fill("since 10:02")
    modal.get_by_role("button", name="Declare").click()
    expect(modal).to_be_hidden()
    assert app.wait_for(2)[1]["view"]["state"]["values"]["what"]["what"]["value"] == "since 10:02"
    assert not ws.views[opened["id"]].is_open

    other = slack.views_open(trigger_id=ws.new_trigger_id("U0ALICE"), view=MODAL)["view"]
    expect(modal).to_be_visible()
    page.get_by_label("Acting as").select_option("U0BOB")  # not Bob's modal
    expect(modal).to_be_hidden()
    page.get_by_label("Acting as").select_option("U0ALICE")
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    assert not ws.views[other["id"]].is_open and len(app.payloads) == 2
    errors.assert_none()


def test_changes_show_up_live_and_refusals_as_slack_answers_them(ws, slack, page, server):
    errors = open_channel(page, server, OPS_ALERTS_ID)
    expect(page.locator("#messages")).to_contain_text("No messages yet.")
    posted = slack.chat_postMessage(channel=OPS_ALERTS_ID, text="first *version*")
    expect(message(page, posted["ts"])).to_contain_text("first version")
    slack.chat_update(channel=OPS_ALERTS_ID, ts=posted["ts"], text="second version")
    expect(message(page, posted["ts"])).to_contain_text("second version")
    expect(message(page, posted["ts"]).locator(".edited")).to_be_visible()
    slack.chat_postEphemeral(channel=OPS_ALERTS_ID, user="U0ALICE", text="just for you")
    expect(page.locator("article.ephemeral")).to_contain_text("just for you")
    room = slack.conversations_create(name="inc-live")["channel"]["id"]
    slack.chat_postMessage(channel=room, text="in the new room")
    expect(page.locator(f'#channels a[data-channel-id="{room}"]')).to_have_class("channel-item unread")
    slack.chat_delete(channel=OPS_ALERTS_ID, ts=posted["ts"])
    expect(message(page, posted["ts"])).to_have_count(0)

    with pytest.raises(SlackApiError):
        slack.chat_postMessage(
            channel=OPS_ALERTS_ID, text="x", blocks=[{"type": "section", "text": text("mrkdwn", "x" * 3001)}]
        )
    ws.inject_fault("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError):
        slack.chat_postMessage(channel=OPS_ALERTS_ID, text="too fast")
    expect(page.locator("#problem-count")).to_have_text("2")
    page.locator("#problems-box summary").first.click()
    problems = page.locator("#problems li")
    expect(problems.nth(0)).to_contain_text("chat.postMessage in #ops-alerts → 429 ratelimited · Retry-After: 7s")
    expect(problems.nth(1)).to_contain_text("invalid_blocks")
    expect(problems.nth(1)).to_contain_text("cannot exceed 3000 characters [json-pointer:/blocks/0]")
    errors.assert_none(allowed=lambda e: "429" in e)


def test_charts_the_app_uploads_show_inline_and_other_files_as_downloads(ws, slack, page, server):
    errors = open_channel(page, server, OPS_ALERTS_ID)
    slack.files_upload_v2(
        channel=OPS_ALERTS_ID, content=PNG, filename="latency.png", title="p99 latency", initial_comment="Evidence"
    )
    slack.files_upload_v2(channel=OPS_ALERTS_ID, content=b"<script>window.__pwned=1</script>", filename="x.html")
    chart = page.locator("figure.file-image img")
    expect(chart).to_have_attribute("alt", "p99 latency")
    page.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=chart.element_handle())
    expect(page.locator("figure.file-image figcaption")).to_have_text("p99 latency")
    download = page.locator("a.file-link")
    expect(download).to_have_text("\U0001f4c4 x.html")
    expect(download).to_have_attribute("download", "x.html")
    assert page.evaluate("window.__pwned") is None
    errors.assert_none()
