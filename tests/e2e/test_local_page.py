"""The local-mode page in a real Chromium against a real `warroom serve` with no Slack token.

Everything the page does goes through the bot's real paths: "Send test alert" through POST
/webhooks/alertmanager, buttons and modals as signed interactions to /slack/events, the composer as signed slash
commands. One `warroom serve` and one browser for the module; a fresh browser context (so a fresh "current
user") per test; every wait is Playwright's auto-waiting `expect`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.alert_builders import am_alert, am_body
from tests.browser import ROOT, PageErrors, chromium, save_artifact
from tests.e2e.local_serve import LocalServe

pytestmark = pytest.mark.slow
REF = re.compile(r"INC-\d{8}-\d{3,}")
EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServe]:
    server = LocalServe(tmp_path_factory.mktemp("local-page")).start()
    yield server
    server.terminate()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def expect(*args: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args)


def open_page(page: Any, url: str) -> PageErrors:
    errors = PageErrors(page)
    page.goto(url)
    expect(page.locator("#live")).to_have_text("live")
    return errors


def room_of(base: str, ref: str, timeout: float = 20) -> str:
    """The war room holding the pinned card of `ref` (the control API, as `warroom demo` finds it)."""
    emulator = f"{base}/local-slack/_emulator"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for channel in httpx.get(f"{emulator}/channels").json()["channels"]:
            if not str(channel.get("name", "")).startswith("inc-"):
                continue
            for m in httpx.get(f"{emulator}/channels/{channel['id']}/messages").json()["messages"]:
                if m.get("pinned") and any(b.get("block_id") == f"card:{ref}" for b in m.get("blocks") or []):
                    return str(channel["id"])
        time.sleep(0.05)
    raise AssertionError(f"no war room with the card of {ref} within {timeout}s")


def send_alert(base: str, **labels: str) -> str:
    summary = labels.pop("summary")
    r = httpx.post(f"{base}/webhooks/alertmanager", json=am_body(am_alert(summary=summary, **labels)))
    assert r.status_code == 202, r.text
    return str(r.json()["incidents"][0])


def card(page: Any, ref: str) -> Any:
    return page.locator("article.message").filter(has=page.locator(f'[data-block-id="card:{ref}"]'))


def command(page: Any, text: str) -> None:
    page.get_by_label("Message or /incident command").fill(text)
    page.get_by_label("Message or /incident command").press("Enter")


def test_a_test_alert_becomes_a_war_room_whose_buttons_and_commands_work(served, page, tmp_path):
    errors = open_page(page, served.page_url)
    page.get_by_role("button", name="Send test alert").click()
    expect(page.locator(".toast.ok")).to_contain_text("Alert accepted: INC-")
    ref = REF.search(page.locator(".toast.ok").first.inner_text()).group(0)
    # The page follows the new war room, with the pinned triage card the bot posted.
    expect(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-\d{8}-checkout-is-failing$"))
    triage = card(page, ref)
    expect(triage.locator(".bk-header")).to_have_text(f"{ref} · Checkout is failing")
    expect(triage.locator(".pinned")).to_have_text(re.compile("Pinned"))
    expect(triage.locator(".bk-fields")).to_contain_text("declared")
    expect(page.locator("#channels")).to_contain_text("incidents")

    triage.get_by_role("button", name="Acknowledge").click()
    expect(triage.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(triage.locator(".bk-fields")).to_contain_text("Acknowledged")
    expect(triage.locator(".bk-fields")).to_contain_text("acknowledged")
    expect(page.locator("article.message").filter(has_text="acknowledged the incident")).to_contain_text("@alice")
    page.screenshot(path=str(tmp_path / "local-page-acknowledged.png"))
    save_artifact(tmp_path / "local-page-acknowledged.png", "local-page-acknowledged.png")

    command(page, "/incident resolve rolled back the bad deploy")
    expect(triage.locator('[data-block-id="card-closed"]')).to_contain_text(f"{ref} is resolved")
    expect(triage.locator("button, select")).to_have_count(0)
    expect(triage.locator(".bk-fields")).to_contain_text("Resolved")
    shot = tmp_path / "local-page.png"
    page.screenshot(path=str(shot))
    save_artifact(shot, "local-page.png")

    # The real handlers ran: the API says so, and each was a signed request the bot accepted (a bad signature
    # gets 401 from /slack/events).
    incident = httpx.get(f"{served.base_url}/api/v1/incidents/{ref}").json()
    assert incident["status"] == "resolved" and incident["acknowledged_at"] is not None
    deliveries = httpx.get(f"{served.base_url}/local-slack/_emulator/deliveries").json()["deliveries"]
    assert ("block_actions", 200) in [(d["kind"], d["status"]) for d in deliveries]
    assert any(d["kind"] == "command" and "resolve" in d["body"] and d["status"] == 200 for d in deliveries)
    errors.assert_none()


def test_alert_text_is_shown_as_text_never_as_html(served, page):
    ref = send_alert(served.base_url, summary=EVIL, alertname="ScriptProbe", service="xss", severity="critical")
    room = room_of(served.base_url, ref)
    errors = open_page(page, f"{served.page_url}#{room}")
    triage = card(page, ref)
    expect(triage.locator(".bk-header")).to_have_text(f"{ref} · {EVIL}")  # plain_text, shown as written
    expect(page.locator("#channel-topic")).to_contain_text(EVIL)  # mrkdwn, escaped by the bot, decoded here
    page.locator("#channels a", has_text="incidents").click()
    expect(page.locator("#channel-name")).to_have_text("#incidents")
    expect(page.locator("article.message").filter(has_text=ref)).to_contain_text(EVIL)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#messages script, #messages img, #channel-topic img").count() == 0
    assert page.locator("script").count() == 1  # the page's own module
    errors.assert_none()


def test_ephemeral_replies_reach_the_current_user_only(served, page):
    errors = open_page(page, f"{served.page_url}#C0GENERAL")
    expect(page.locator("#channel-name")).to_have_text("#general")
    command(page, "/incident help")
    mine = page.locator("article.ephemeral")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Only visible to you")
    expect(mine).to_contain_text("/incident")

    page.get_by_label("Acting as").select_option("U0BOB")
    expect(page.locator("body")).to_have_attribute("data-user", "U0BOB")
    expect(page.locator("article.ephemeral")).to_have_count(0)
    command(page, "/incident nonsense")
    expect(page.locator("article.ephemeral")).to_have_count(1)
    expect(page.locator("article.ephemeral")).to_contain_text("nonsense")

    page.get_by_label("Acting as").select_option("U0ALICE")
    expect(page.locator("body")).to_have_attribute("data-user", "U0ALICE")
    expect(page.locator("article.ephemeral")).to_have_count(1)
    expect(page.locator("article.ephemeral")).not_to_contain_text("nonsense")
    errors.assert_none()


def test_a_modal_is_submitted_as_a_signed_view_submission(served, page):
    ref = send_alert(served.base_url, summary="Forms are slow", alertname="FormsSlow", service="forms")
    room = room_of(served.base_url, ref)
    errors = open_page(page, f"{served.page_url}#{room}")
    expect(card(page, ref)).to_be_visible()
    page.get_by_label("Acting as").select_option("U0CAROL")
    command(page, "/incident update")
    modal = page.get_by_role("dialog", name="Status update")
    expect(modal).to_be_visible()
    modal.get_by_role(
        "button", name="Post update"
    ).click()  # the template untouched: the bot answers with a field error
    expect(modal.locator(".field-error").first).to_have_text("Write the update: fill in the template.")
    modal.get_by_label("What changed, what's next, when is the next update?").fill("Rolled back <b>v2</b>; next in 30m")
    modal.get_by_role("button", name="Post update").click()
    expect(modal).to_be_hidden()
    expect(page.locator("article.message").filter(has_text="next in 30m")).to_contain_text("<b>v2</b>")
    timeline = httpx.get(f"{served.base_url}/api/v1/incidents/{ref}").json()["timeline"]
    assert any(e["actor"] == "U0CAROL" and "next in 30m" in e["text"] for e in timeline), timeline
    errors.assert_none()


def test_the_urls_the_readme_names_work(served):
    """The README names the page at 127.0.0.1:8080; the same paths work on the port this server took."""
    readme = (ROOT / "README.md").read_text()
    paths = {p for p in re.findall(r"http://127\.0\.0\.1:8080(/[\w/-]*)", readme) if not p.endswith("/api/")}
    assert {"/", "/local-slack/"} <= paths, paths
    assert served.page_url == f"{served.base_url}/local-slack/"  # what `make run` prints
    for path in paths:
        r = httpx.get(f"{served.base_url}{path}", follow_redirects=True)
        assert r.status_code == 200 and "Send test alert" in r.text, path


def test_the_page_and_its_stream_answer_this_machine_only(served):
    remote = {"X-Forwarded-For": "203.0.113.7"}
    rebinding = {"Host": "rebind.attacker.example"}
    other_site = {"Origin": "http://attacker.example"}
    paths = [
        "/local-slack/",
        "/local-slack/static/page.js",
        "/local-slack/_emulator/page",
        "/local-slack/_emulator/stream",
    ]
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        for headers, error in [(remote, "loopback_only"), (rebinding, "bad_host"), (other_site, "cross_origin")]:
            for path in paths:
                r = http.get(path, headers=headers)
                assert r.status_code == 403 and r.json()["error"] == error, (path, headers, r.text)
            r = http.post("/local-slack/_emulator/test-alert", json={}, headers=headers)
            assert r.status_code == 403 and r.json()["error"] == error, r.text
        assert http.get("/").headers["location"] == "/local-slack/"
        assert http.get("/local-slack/", headers={"Host": "localhost"}).status_code == 200
        same = {"Origin": served.base_url}
        assert http.get("/local-slack/_emulator/page", headers=same).status_code == 200


def test_stopping_the_server_with_the_page_open_does_not_wait_for_it(browser, tmp_path):
    server = LocalServe(tmp_path, WARROOM_LOG_LEVEL="INFO").start()
    try:
        context = browser.new_context()
        page = context.new_page()
        open_page(page, server.page_url)  # the live stream is open
        started = time.monotonic()
        code = server.terminate()
        took = time.monotonic() - started
        expect(page.locator("#live")).to_have_text("reconnecting…")
        context.close()
    finally:
        server.terminate()
    log = server.log_text()
    assert code in (0, -15), log  # uvicorn re-raises the SIGTERM it handled once it has shut down
    assert "graceful shutdown exceeded" not in log, log
    assert took < 5, f"stopping took {took:.1f}s (uvicorn's graceful-shutdown timeout is 5 s)"
