"""`warroom demo`: send a sample alert to a local-mode bot and print the war room it opens.

The alert goes through the real webhook (the page's "Send test alert" button, `POST /webhooks/alertmanager`);
the rest drives the bot through its emulator's control API, as the page does. When no bot answers on
WARROOM_HOST:WARROOM_PORT it starts its own local-mode bot in-process on a free port with a throwaway database.
"""

from __future__ import annotations

import asyncio
import re
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.config import Settings
from bot.exposure import loopback_url

RESPONDER = "U0BOB"
SEVERITY_LABELS = {  # the alert labels that the default severity rules read as each severity
    "SEV1": {"severity": "critical", "customer_facing": "true"},
    "SEV2": {"severity": "critical"},
    "SEV3": {"severity": "warning"},
}


async def _local_api(base: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as c:
            return (await c.get(f"{base}/local-slack/_emulator/channels")).status_code == 200
    except httpx.HTTPError:
        return False


@asynccontextmanager
async def _own_bot(settings: Settings) -> AsyncIterator[str]:
    import uvicorn

    from bot.bootstrap import build
    from bot.db.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="warroom-demo-"))
    local = settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{tmp / 'demo.db'}",
            "local_mode_setting": True,
            "host": "127.0.0.1",  # where this private bot listens (below)
        }
    )
    await asyncio.to_thread(upgrade, local.database_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto set: TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    container = build(local)
    container.set_public_url(base)
    server = uvicorn.Server(uvicorn.Config(container.app, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await _poll(_started(server))
    try:
        yield base
    finally:
        server.should_exit = True
        await task


def _started(server: Any) -> Any:
    async def check() -> bool:
        return bool(server.started)

    return check


async def _poll(fn: Any, seconds: float = 15.0) -> Any:
    """Poll an async check until it returns something truthy (the bot works in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = await fn()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise TimeoutError("the war room did not appear in time")


def render(message: dict[str, Any]) -> str:
    """A message as plain lines: header, fields, sections, buttons."""
    lines: list[str] = []
    for b in message.get("blocks") or []:
        if b.get("type") == "header":
            lines.append(f"## {b['text']['text']}")
        elif b.get("type") == "section":
            if b.get("text"):
                lines.append(b["text"]["text"])
            for f in b.get("fields") or []:
                lines.append("  " + f["text"].replace("\n", ": ", 1).replace("\n", " "))
        elif b.get("type") == "context":
            lines.extend("  " + e.get("text", "") for e in b.get("elements", []))
        elif b.get("type") == "actions":
            labels = [
                e["text"]["text"] if e.get("text") else e.get("placeholder", {}).get("text", "?")
                for e in b.get("elements", [])
            ]
            lines.append("  [" + "] [".join(labels) + "]")
    text = "\n".join(lines) or str(message.get("text", ""))
    text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
    pin = " (pinned)" if message.get("pinned_to") else ""
    return f"<{message.get('user')}>{pin} {text}"


async def drive(base: str, *, title: str, severity: str) -> int:
    """Send the alert, wait for the room, acknowledge from the card, print what the room shows."""
    emu = f"{base}/local-slack/_emulator"
    async with httpx.AsyncClient(timeout=15) as c:
        r = await c.post(f"{emu}/test-alert", json={"summary": title, **SEVERITY_LABELS[severity]})
        reply = r.json()
        print(f"alert {title!r} -> POST /webhooks/alertmanager\n  -> {reply.get('status')} {reply.get('body')}\n")
        body = reply.get("body")
        refs = body.get("incidents") if isinstance(body, dict) else None
        if not refs:
            print("the bot declared no incident")
            return 1
        ref = str(refs[0])

        async def card() -> tuple[str, dict[str, Any]] | None:
            chans = (await c.get(f"{emu}/channels")).json()["channels"]
            for ch in chans:
                if not str(ch.get("name", "")).startswith("inc-"):
                    continue
                msgs = (await c.get(f"{emu}/channels/{ch['id']}/messages")).json()["messages"]
                for m in msgs:
                    if m.get("pinned_to") and any(b.get("block_id") == f"card:{ref}" for b in m.get("blocks") or []):
                        return ch["id"], m
            return None

        channel_id, msg = await _poll(card)
        await c.post(
            f"{emu}/send/click",
            json={
                "user_id": RESPONDER,
                "channel_id": channel_id,
                "message_ts": msg["ts"],
                "action_id": "incident-ack",
                "value": ref,
            },
        )

        async def acked() -> bool:
            msgs = (await c.get(f"{emu}/channels/{channel_id}/messages")).json()["messages"]
            return any("acknowledged the incident" in str(m.get("text", "")) for m in msgs)

        await _poll(acked)
        chans = {ch["id"]: ch for ch in (await c.get(f"{emu}/channels")).json()["channels"]}
        room = chans[channel_id]
        print(f"#{room['name']}  topic: {room.get('topic', {}).get('value', '')}")
        print(f"members: {', '.join(room.get('members', []))}\n")
        for m in (await c.get(f"{emu}/channels/{channel_id}/messages")).json()["messages"]:
            print(render(m) + "\n")
        ann = next((ch for ch in chans.values() if ch.get("name") == "incidents"), None)
        if ann is not None:
            print("#incidents")
            for m in (await c.get(f"{emu}/channels/{ann['id']}/messages")).json()["messages"]:
                print("  " + str(m.get("text", "")))
    return 0


async def run_demo(settings: Settings, *, title: str, severity: str) -> int:
    """Run the demo against a running local bot, or a private one."""
    base = loopback_url(settings.host, settings.port)
    if await _local_api(base):
        print(f"(using the local-mode bot at {base})\n")
        return await drive(base, title=title, severity=severity)
    print("(no local-mode bot answering; starting one in-process with a throwaway database)\n")
    async with _own_bot(settings) as own:
        return await drive(own, title=title, severity=severity)
