"""The local page's server side: its files and their policy, what it shows each user, the live stream, the
test-alert button, who may use any of it, and the wheel that ships it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
import websockets
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from integrations.local_workspace import GENERAL_ID, EmulatorServer, SampleAlert, Workspace, create_app
from tests.servers.slack_emulator import SLACK_TEST_APP_TOKEN, SLACK_TEST_SIGNING_SECRET, SLACK_TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "integrations" / "local_workspace" / "static"
AUTH = {"Authorization": f"Bearer {SLACK_TEST_TOKEN}"}


def local(app: Any, host: str = "127.0.0.1:8080") -> httpx.AsyncClient:
    """A client of `app` from loopback, addressed to `host`."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := check():
            return got
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout}s")


# --- the page's files -----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


async def test_the_page_runs_its_own_files_only(slack_workspace):
    async with local(create_app(slack_workspace)) as http:
        page = await http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        parser = _Tags()
        parser.feed(page.text)
        for tag, attrs in parser.tags:
            assert not [a for a in attrs if a.startswith("on") or a == "style"], (tag, attrs)  # no inline code
            if tag == "script":
                assert attrs.get("src"), "no inline scripts"
            for ref in (attrs.get("src"), attrs.get("href") if tag == "link" and attrs.get("rel") != "icon" else None):
                if ref:
                    served = await http.get(f"/{ref}")
                    assert served.status_code == 200, ref
                    assert served.headers["x-content-type-options"] == "nosniff"
        for name in ("page.js", "blocks.js", "mrkdwn.js"):
            script = await http.get(f"/static/{name}")
            assert "javascript" in script.headers["content-type"]
            for imported in re.findall(r'from "\./([a-z]+\.js)"', script.text):
                assert (await http.get(f"/static/{imported}")).status_code == 200


def test_the_scripts_never_parse_data_as_html():
    """Every string reaches the page as a text node: none of the HTML-parsing sinks is used at all."""
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc|DOMParser")
    for script in STATIC.glob("*.js"):
        assert not sinks.findall(script.read_text()), script.name


def test_a_wheel_ships_the_page(tmp_path):
    """A non-editable install has the page: the wheel carries every file of static/ (package-data)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("bot", "handlers", "integrations"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("warroom-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"integrations/local_workspace/static/{p.name}" for p in STATIC.iterdir()}
    assert {"integrations/local_workspace/static/index.html", "integrations/local_workspace/static/page.js"} <= wanted
    assert wanted <= names, wanted - names


# --- what one user sees ---------------------------------------------------------------------------------


async def test_each_user_sees_their_own_ephemeral_messages_modals_and_channels(slack_workspace):
    ws = slack_workspace
    general = ws.resolve_channel(GENERAL_ID)
    ws.post_ephemeral(general, "U0ALICE", "for alice")
    ws.post_ephemeral(general, "U0BOB", "for bob")
    secret = ws.create_channel("bobs-room", creator="U0BOB", is_private=True)
    ws.open_view("U0ALICE", {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []})
    async with local(create_app(ws)) as http:
        alice = (await http.get("/_emulator/page", params={"user": "U0ALICE", "channel": GENERAL_ID})).json()
        bob = (await http.get("/_emulator/page", params={"user": "U0BOB", "channel": GENERAL_ID})).json()
        nobody = (await http.get("/_emulator/page", params={"user": "U0BOT", "channel": secret.id})).json()
    assert [e["text"] for e in alice["ephemeral"]] == ["for alice"]
    assert [e["text"] for e in bob["ephemeral"]] == ["for bob"]
    assert alice["view"]["title"]["text"] == "Hi" and bob["view"] is None
    assert secret.id not in [c["id"] for c in alice["channels"]] and secret.id in [c["id"] for c in bob["channels"]]
    assert nobody["user"] == "U0ALICE" and nobody["channel"] is None  # not the bot; not a channel alice can't see
    assert alice["connected"] is False and alice["sample_alert"] is False


async def test_refused_web_api_calls_show_as_slack_answered_them(slack_workspace):
    ws = slack_workspace
    bad = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    async with local(create_app(ws)) as http:
        r = await http.post("/api/chat.postMessage", headers=AUTH, json={"channel": "C0OPSALERTS", "blocks": bad})
        assert r.json()["error"] == "invalid_blocks"
        ws.inject_fault("chat.update", status=429, retry_after=7)
        r = await http.post("/api/chat.update", headers=AUTH, json={"channel": "C0OPSALERTS", "ts": "1.2", "text": "x"})
        assert r.status_code == 429
        await http.post("/api/chat.postMessage", headers=AUTH, json={"channel": "C0OPSALERTS", "text": "fine"})
        problems = (await http.get("/_emulator/page")).json()["problems"]
    assert [(p["method"], p["status"], p["error"]) for p in problems] == [
        ("chat.update", 429, "ratelimited"),
        ("chat.postMessage", 200, "invalid_blocks"),
    ]
    assert problems[0]["retry_after"] == 7 and problems[1]["channel"] == "C0OPSALERTS"
    assert any("cannot exceed 3000 characters [json-pointer:/blocks/0]" in m for m in problems[1]["messages"]), (
        problems[1]["messages"]
    )
    assert '"x' in problems[1]["args"] and SLACK_TEST_TOKEN not in json.dumps(problems)


async def test_a_busy_channel_shows_its_newest_messages(slack_workspace):
    channel = slack_workspace.resolve_channel("C0OPSALERTS")
    for n in range(205):
        slack_workspace.post(channel, "U0BOT", f"message {n}")
    async with local(create_app(slack_workspace)) as http:
        state = (await http.get("/_emulator/page", params={"channel": "C0OPSALERTS"})).json()
    assert state["older"] == 5 and len(state["messages"]) == 200
    assert (state["messages"][0]["text"], state["messages"][-1]["text"]) == ("message 5", "message 204")


# --- the live stream ------------------------------------------------------------------------------------


async def _events(response: httpx.Response) -> AsyncIterator[int]:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            yield int(line.removeprefix("data: "))


async def _next(events: AsyncIterator[int]) -> int:
    return await asyncio.wait_for(anext(events), timeout=10)


async def test_the_stream_tells_each_change_even_from_another_thread(slack_workspace, slack_emulator):
    ws = slack_workspace
    async with (
        httpx.AsyncClient(base_url=slack_emulator.url, timeout=10) as http,
        http.stream("GET", "/_emulator/stream") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
        first = await _next(events)
        assert first == ws.feed.revision
        await asyncio.to_thread(ws.post, ws.resolve_channel(GENERAL_ID), "U0ALICE", "from a thread")
        assert await _next(events) > first
        before = ws.feed.revision
        api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=slack_emulator.api_url)
        await api.chat_postMessage(channel="C0OPSALERTS", text="from the bot")
        assert await _next(events) > before


async def test_stopping_the_emulator_ends_open_streams_cleanly_and_at_once():
    ws = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET)
    server = EmulatorServer(ws)
    await server.start()
    before = asyncio.all_tasks()
    ended: list[str] = []

    async def watch(http: httpx.AsyncClient) -> None:
        async with http.stream("GET", "/_emulator/stream") as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    ended.append("open")
        ended.append("clean end")  # an abort raises instead (httpx.RemoteProtocolError)

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        watchers = [asyncio.create_task(watch(http)) for _ in range(2)]
        await eventually(lambda: ended.count("open") == 2 and ws.feed.streams == 2)
        await server.stop()  # its graceful-shutdown timeout is 1 s: waiting for the streams would cut them off
        await asyncio.wait_for(asyncio.gather(*watchers), timeout=10)
    assert ended.count("clean end") == 2
    assert ws.feed.streams == 0
    assert {t for t in asyncio.all_tasks() if not t.done()} <= before


async def test_a_client_that_goes_away_releases_its_stream(slack_workspace, slack_emulator):
    async with (
        httpx.AsyncClient(base_url=slack_emulator.url, timeout=10) as http,
        http.stream("GET", "/_emulator/stream") as response,
    ):
        await _next(_events(response))
        assert slack_workspace.feed.streams == 1
    await eventually(lambda: slack_workspace.feed.streams == 0)  # noticed with no change to the workspace


async def test_live_streams_are_capped(slack_workspace, slack_emulator):
    slack_workspace.feed.max_streams = 1
    async with (
        httpx.AsyncClient(base_url=slack_emulator.url, timeout=10) as http,
        http.stream("GET", "/_emulator/stream") as first,
    ):
        await _next(_events(first))
        second = await http.get("/_emulator/stream")
        assert second.status_code == 503 and second.json()["error"] == "unavailable"


# --- who may use it -------------------------------------------------------------------------------------


PLACES = [
    ("GET", "/"),
    ("GET", "/static/page.js"),
    ("GET", "/_emulator/page"),
    ("GET", "/_emulator/stream"),
    ("GET", "/_emulator/channels"),
    ("POST", "/_emulator/send/command"),
    ("POST", "/_emulator/test-alert"),
    ("POST", "/api/chat.postMessage"),
]


@pytest.mark.parametrize(
    "host", ["attacker.example", "attacker.example:8080", "127.0.0.1.nip.example", "[2001:db8::1]"]
)
async def test_a_host_that_is_not_this_machine_is_refused(slack_workspace, host):
    """DNS rebinding: a name the attacker points at 127.0.0.1 reaches the port, but names another site."""
    async with local(create_app(slack_workspace), host=host) as http:
        for method, path in PLACES:
            r = await http.request(method, path, headers=AUTH, json={"user_id": "U0ALICE", "channel_id": GENERAL_ID})
            assert r.status_code == 403 and r.json()["error"] == "bad_host", (host, path, r.text)
    assert slack_workspace.calls == [] and slack_workspace.deliveries == []


async def test_another_origin_is_refused_even_with_a_simple_request(slack_workspace):
    """Cross-site request forgery: a page elsewhere POSTs text/plain (no preflight); the browser adds Origin."""
    form = '{"user_id": "U0ALICE", "channel_id": "C0GENERAL", "text": "resolve"}'
    async with local(create_app(slack_workspace)) as http:
        for origin in ("http://attacker.example", "null", "http://127.0.0.1:9999", "http://localhost:8080"):
            for method, path in PLACES:
                headers = {**AUTH, "Origin": origin, "Content-Type": "text/plain"}
                r = await http.request(method, path, headers=headers, content=form)
                assert r.status_code == 403 and r.json()["error"] == "cross_origin", (origin, path, r.text)
        same = await http.get("/_emulator/page", headers={"Origin": "http://127.0.0.1:8080"})
        assert same.status_code == 200
    async with local(create_app(slack_workspace), host="localhost:8080") as http:
        assert (await http.get("/", headers={"Origin": "http://localhost:8080"})).status_code == 200
    async with local(create_app(slack_workspace), host="[::1]:8080") as http:
        assert (await http.get("/_emulator/page")).status_code == 200
    assert slack_workspace.deliveries == []


async def test_a_web_page_elsewhere_cannot_open_the_socket_mode_link(socket_workspace, socket_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=socket_emulator.api_url)
    url = (await api.apps_connections_open(app_token=SLACK_TEST_APP_TOKEN))["url"]
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, origin="http://attacker.example")
    assert refused.value.response.status_code == 403
    async with websockets.connect(url) as ok:  # the app itself (no Origin) is served
        assert json.loads(await ok.recv())["type"] == "hello"


# --- the test-alert button and command replies -----------------------------------------------------------


class Recorder:
    """A loopback HTTP server that records requests and answers with `reply`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.reply: Response = JSONResponse({"accepted": 1, "incidents": ["INC-20261202-001"]}, status_code=202)
        self.url = ""

    async def handle(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        return self.reply


@pytest_asyncio.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    app = Starlette(routes=[Route("/{path:path}", rec.handle, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started)
    rec.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield rec
    server.should_exit = True
    await task


async def test_the_test_alert_goes_to_the_configured_webhook_only(recorder):
    built: list[dict[str, str]] = []

    def build(options: dict[str, str]) -> dict[str, Any]:
        if set(options) - {"summary"}:
            raise ValueError("unknown option")
        built.append(options)
        return {"alerts": [{"labels": {"alertname": "Sample"}, "annotations": options}]}

    sample = SampleAlert(build, url=f"{recorder.url}/webhooks/alertmanager", headers={"Authorization": "Bearer t0k"})
    ws = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, sample_alert=sample)
    async with local(create_app(ws)) as http:
        assert (await http.get("/_emulator/page")).json()["sample_alert"] is True
        r = await http.post("/_emulator/test-alert", json={"summary": "Disk full"})
        assert r.json() == {"ok": True, "status": 202, "body": {"accepted": 1, "incidents": ["INC-20261202-001"]}}
        for body in ({"url": "http://169.254.169.254/"}, {"summary": 7}, {"summary": "x" * 201}, [1]):
            refused = await http.post("/_emulator/test-alert", json=body)
            assert refused.status_code == 400, refused.text
        moved = await http.post("/_emulator/config", json={"sample_alert_url": "http://169.254.169.254/"})
        assert moved.status_code == 400
        empty = await http.post("/_emulator/test-alert")
        assert empty.status_code == 200
    assert [json.loads(body)["alerts"][0]["annotations"] for _, body in recorder.requests] == [
        {"summary": "Disk full"},
        {},
    ]
    assert recorder.requests[0][0]["authorization"] == "Bearer t0k"
    assert built == [{"summary": "Disk full"}, {}]

    alone = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET)  # the emulator without a bot
    async with local(create_app(alone)) as http:
        r = await http.post("/_emulator/test-alert")
        assert r.status_code == 404 and r.json()["error"] == "not_configured"


@pytest.mark.parametrize(
    ("reply", "ephemeral", "in_channel"),
    [
        (JSONResponse({"text": "only you"}), ["only you"], []),
        (JSONResponse({"response_type": "in_channel", "text": "everyone"}), [], ["everyone"]),
        (PlainTextResponse("plain ok"), ["plain ok"], []),
        (Response(status_code=200), [], []),
        (JSONResponse({"text": "broken"}, status_code=500), [], []),
    ],
    ids=["ephemeral", "in-channel", "plain-text", "empty", "error"],
)
async def test_the_answer_to_a_slash_command_shows_as_slack_shows_it(recorder, reply, ephemeral, in_channel):
    ws = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, events_url=f"{recorder.url}/slack/events")
    recorder.reply = reply
    await ws.send_command("U0CAROL", GENERAL_ID, "status")
    assert [(e.user, e.text) for e in ws.ephemeral] == [("U0CAROL", t) for t in ephemeral]
    assert [m.text for m in ws.messages(GENERAL_ID)] == in_channel
    await ws.close_clients()


async def test_a_user_closes_their_own_modal_only(slack_workspace):
    ws = slack_workspace
    view = ws.open_view("U0ALICE", {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []})
    async with local(create_app(ws)) as http:
        r = await http.post(f"/_emulator/views/{view.id}/close", json={"user_id": "U0BOB"})
        assert r.status_code == 404 and view.is_open
        r = await http.post(f"/_emulator/views/{view.id}/close", json={"user_id": "U0ALICE"})
        assert r.status_code == 200 and not view.is_open


# --- the bot's side: / in local mode ---------------------------------------------------------------------


@pytest.mark.parametrize("local_mode", [True, False])
async def test_slash_leads_to_the_page_in_local_mode_only(tmp_path, local_mode):
    from bot.bootstrap import build
    from bot.config import Settings

    values: dict[str, Any] = {"WARROOM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    if not local_mode:
        values.update(SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s", WARROOM_LOCAL_MODE=False)
    container = build(Settings(_env_file=None, **values))
    try:
        async with local(container.app) as http:
            r = await http.get("/")
            page = await http.get("/local-slack/")
    finally:
        with contextlib.suppress(Exception):
            await container.store.dispose()
    if local_mode:
        assert (r.status_code, r.headers["location"]) == (307, "/local-slack/")
        assert page.status_code == 200 and "Send test alert" in page.text
        assert container.local is not None and container.local.workspace.sample_alert.url.endswith(
            "/webhooks/alertmanager"
        )
    else:
        assert r.status_code == 404 and page.status_code == 404


# --- files the app uploads (charts) --------------------------------------------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a0e1f4e40000000049454e44ae426082"
)


async def test_an_uploaded_chart_is_shared_as_a_message_and_served_as_an_image(slack_workspace, slack_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=slack_emulator.api_url)
    done = await api.files_upload_v2(
        channel="C0OPSALERTS",
        content=PNG,
        filename="latency.png",
        title="p99 latency",
        alt_txt="p99 latency, last hour",
        initial_comment="Hypothesis 1: the deploy",
    )
    file_id = done["file"]["id"]
    (message,) = slack_workspace.messages("C0OPSALERTS")
    assert message.text == "Hypothesis 1: the deploy"
    assert message.files and message.files[0]["title"] == "p99 latency" and message.files[0]["mimetype"] == "image/png"
    async with httpx.AsyncClient(base_url=slack_emulator.url) as http:
        image = await http.get(f"/_emulator/files/{file_id}")
        assert image.status_code == 200 and image.content == PNG
        assert image.headers["content-type"] == "image/png" and "sandbox" in image.headers["content-security-policy"]
        page = (await http.get("/_emulator/page", params={"channel": "C0OPSALERTS"})).json()
        assert page["messages"][0]["files"][0]["id"] == file_id


async def test_an_upload_that_is_no_image_is_only_ever_a_download(slack_workspace, slack_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=slack_emulator.api_url)
    html = b"<html><script>alert(1)</script></html>"
    done = await api.files_upload_v2(channel="C0OPSALERTS", content=html, filename="chart.png")
    async with httpx.AsyncClient(base_url=slack_emulator.url) as http:
        served = await http.get(f"/_emulator/files/{done['file']['id']}")
    assert served.content == html
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == "attachment"
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_upload_urls_take_what_was_announced_once(slack_workspace, slack_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=slack_emulator.api_url)
    issued = await api.files_getUploadURLExternal(filename="a.png", length=len(PNG))
    url, file_id = issued["upload_url"], issued["file_id"]
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, content=PNG + b"more")).status_code == 413
        assert (await http.post(url.replace(file_id, "F0NOPE"), content=PNG)).status_code == 404
        assert (await http.post(url + "x", content=PNG)).status_code == 404
        assert (await http.post(url, content=PNG)).status_code == 200
        assert (await http.post(url, content=PNG)).status_code == 404  # once
        assert (await http.get(f"{slack_emulator.url}/_emulator/files/{file_id}")).status_code == 404  # not shared
    with pytest.raises(SlackApiError) as refused:
        await api.files_completeUploadExternal(files=[{"id": "F0NOPE"}], channel_id="C0OPSALERTS")
    assert refused.value.response["error"] == "file_not_found"
    pending = await api.files_getUploadURLExternal(filename="b.png", length=10)
    with pytest.raises(SlackApiError) as refused:
        await api.files_completeUploadExternal(files=[{"id": pending["file_id"]}], channel_id="C0OPSALERTS")
    assert refused.value.response["error"] == "file_upload_not_completed"
    with pytest.raises(SlackApiError) as refused:
        await api.files_getUploadURLExternal(filename="huge.png", length=50 * 1024 * 1024)
    assert refused.value.response["error"] == "file_too_large"
