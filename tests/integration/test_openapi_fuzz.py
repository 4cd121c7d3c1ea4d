"""Fuzz the real HTTP surface against its own OpenAPI description (schemathesis).

A real bot (local mode, API and alert tokens set, a few alerts, incidents and a silence stored) is served
by uvicorn on 127.0.0.1:<free port> in a thread. Schemathesis sends requests generated from the
description, valid and invalid, with the tokens and without. No answer may be a 5xx; every answer must be
described (status, content type, headers, body schema); schema-invalid input must be refused and valid input
accepted; a refused request (4xx) must store nothing. Seeded and derandomized: the same requests every run.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import Phase, settings
from schemathesis.specs.openapi import checks as oa

from bot.bootstrap import build
from bot.config import Settings, parse_config
from handlers import openapi
from tests.alert_builders import am_alert, am_body

API_TOKEN = "api-token-for-the-fuzz-test"
ALERT_TOKEN = "alert-token-for-the-fuzz-test"
TOPIC = "arn:aws:sns:us-east-1:402816359027:acme-prod-alarms"
CONFIG = f"""
cloudwatch:
  topics: ["{TOPIC}"]
"""
SEED = 20261123
MAX_EXAMPLES = 25

pytestmark = [
    pytest.mark.slow,
    # schemathesis's own strategies draw from `random` (seeded by Hypothesis); not ours to fix
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


async def _no_network(url: str) -> bytes:
    raise ConnectionRefusedError("tests reach no network")


async def _no_confirm(url: str) -> None:
    raise ConnectionRefusedError("tests reach no network")


@dataclass
class ServedBot:
    """The bot served by uvicorn in a thread with its own event loop; `url` once it listens."""

    db: Path
    url: str = ""
    _server: uvicorn.Server | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _started: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fuzzed-bot", daemon=True)
        self._thread.start()
        if not self._started.wait(30):
            raise AssertionError("the bot did not start within 30 s")
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._started.set()

    async def _serve(self) -> None:
        from bot.db.migrate import upgrade

        db_url = f"sqlite+aiosqlite:///{self.db}"
        await asyncio.to_thread(upgrade, db_url)
        values: dict[str, Any] = {
            "WARROOM_DATABASE_URL": db_url,
            "WARROOM_HOST": "127.0.0.1",
            "WARROOM_PORT": 0,
            "WARROOM_LOCAL_MODE": True,
            "WARROOM_API_TOKEN": API_TOKEN,
            "WARROOM_ALERT_TOKEN": ALERT_TOKEN,
            "WARROOM_OUTBOX_BASE_DELAY": 0.05,
            "WARROOM_OUTBOX_MAX_DELAY": 0.5,
        }
        container = build(
            Settings(_env_file=None, **values),
            config=parse_config(CONFIG),
            poll_interval=0.05,
            cert_fetcher=_no_network,
            sns_confirm=_no_confirm,
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        container.set_public_url(self.url)
        self._server = uvicorn.Server(uvicorn.Config(container.app, log_config=None, access_log=False, lifespan="on"))
        self._loop = asyncio.get_running_loop()
        task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not task.done():
            await asyncio.sleep(0.01)
        self._started.set()
        await task

    def stop(self) -> None:
        if self._server is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
        if self._thread is not None:
            self._thread.join(15)

    def stored(self) -> dict[str, int]:
        """What a request could store: rows and counters of alerts, incidents and silences, SNS message ids."""
        queries = {
            "incidents": "SELECT count(*) FROM incidents",
            "alerts": "SELECT count(*) FROM alerts",
            "alert_repeats": "SELECT coalesce(sum(count), 0) FROM alerts",
            "alerts_resolved": "SELECT count(*) FROM alerts WHERE resolved_at IS NOT NULL",
            "silences": "SELECT count(*) FROM silences",
            "silences_expired": "SELECT count(*) FROM silences WHERE expired_at IS NOT NULL",
            "inbound_seen": "SELECT count(*) FROM inbound_seen",
        }
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as con:
            return {name: con.execute(sql).fetchone()[0] for name, sql in queries.items()}


def _seed(url: str) -> None:
    """Something for every list and detail answer to show: incidents, a review alert, silences."""
    alerts = {"Authorization": f"Bearer {ALERT_TOKEN}"}
    api = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=url, timeout=10) as http:
        body = am_body(
            am_alert(severity="critical", summary="Checkout <b>failing</b> & slow"),
            am_alert(alertname="DiskAlmostFull", service="search", severity="info"),
        )
        assert http.post("/webhooks/alertmanager", json=body, headers=alerts).status_code == 202
        generic = {"labels": {"alertname": "QueueBacklog", "service": "billing", "severity": "warning"}, "value": 7}
        assert http.post("/webhooks/generic", json=generic, headers=alerts).status_code == 202
        for minutes in (60, 120):
            silence = {"matchers": {"service": "search"}, "duration_minutes": minutes, "comment": "maintenance"}
            assert http.post("/api/v1/silences", json=silence, headers=api).status_code == 201


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[ServedBot]:
    served = ServedBot(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    served.start()
    try:
        _seed(served.url)
        yield served
    finally:
        served.stop()


def _config(*, authenticated: bool) -> schemathesis.Config:
    project: dict[str, Any] = {
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES, "database": "none", "mode": "all"},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False},  # the test names its checks
        "request-timeout": 10,
    }
    if authenticated:
        project["auth"] = {
            "openapi": {
                "apiToken": {"bearer": API_TOKEN},
                "alertToken": {"bearer": ALERT_TOKEN},
                "alertBasic": {"username": "alertmanager", "password": ALERT_TOKEN},
            }
        }
    return schemathesis.Config.from_dict({"seed": SEED, **project})


# The document the server serves (tests/unit/test_openapi_spec.py holds the two together), loaded at import
# so that pytest collects one test per operation.
with_tokens = schemathesis.openapi.from_dict(openapi.build(), config=_config(authenticated=True))
without_tokens = schemathesis.openapi.from_dict(openapi.build(), config=_config(authenticated=False))

CHECKS = [
    oa.status_code_conformance,
    oa.content_type_conformance,
    oa.response_headers_conformance,
    oa.response_schema_conformance,
    oa.unsupported_method,
    oa.negative_data_rejection,
    oa.positive_data_acceptance,  # last: see TIME_OR_SIGNATURE
]
# Valid-looking input these accept only with times relative to now or a real signature, which a schema cannot say.
TIME_OR_SIGNATURE = ("POST /api/v1/silences", "POST /webhooks/cloudwatch")


def _call_and_check(case: schemathesis.Case, bot: ServedBot) -> Any:
    before = bot.stored()
    response = case.call(base_url=bot.url)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} answered {response.status_code}"
    if 400 <= response.status_code < 500:
        assert bot.stored() == before, f"{case.method} {case.formatted_path} answered {response.status_code} but stored"
    checks = CHECKS[:-1] if case.operation.label in TIME_OR_SIGNATURE else CHECKS
    case.validate_response(response, checks=checks)
    return response


# No shrinking: every example is an HTTP round trip, and shrinking a failure took over 5 minutes (the
# faulthandler timeout) on a loaded machine. A failure is reported as found, with its request.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


@with_tokens.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, phases=PHASES)
def test_with_tokens(case, bot):
    _call_and_check(case, bot)


@without_tokens.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, phases=PHASES)
def test_without_tokens(case, bot):
    response = _call_and_check(case, bot)
    public = case.path in ("/api/v1/openapi.json", "/webhooks/generic/schema")
    other_method = case.method.upper() != case.operation.method.upper()  # the coverage phase tries them: 405
    if not public and not other_method:
        assert response.status_code == 401, f"{case.method} {case.formatted_path} answered without a token"


def test_stored_objects_match_the_description(bot):
    """The detail answers of things that exist (the fuzzer's random ids find none)."""
    api = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=bot.url, headers=api, timeout=10) as http:
        refs = [i["ref"] for i in http.get("/api/v1/incidents").json()["incidents"]]
        review = http.get("/api/v1/review").json()["alerts"]
        silence_ids = [s["id"] for s in http.get("/api/v1/silences").json()["silences"]]
    assert len(refs) >= 2 and review and silence_ids, "the seed stored incidents, a review alert and silences"
    detail = with_tokens["/api/v1/incidents/{ref}"]["GET"]
    for ref in refs:
        case = detail.Case(path_parameters={"ref": ref})
        response = case.call(base_url=bot.url, headers=api)
        assert response.status_code == 200
        case.validate_response(response, checks=CHECKS[:4])
        assert response.json()["timeline"], f"{ref} has a timeline"
    expire = with_tokens["/api/v1/silences/{id}"]["DELETE"]
    case = expire.Case(path_parameters={"id": silence_ids[0]})
    response = case.call(base_url=bot.url, headers=api)
    assert response.status_code == 200 and response.json()["state"] == "expired"
    case.validate_response(response, checks=CHECKS[:4])
