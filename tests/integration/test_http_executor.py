"""The http executor against a loopback service, through a real httpx client as the bot shares it."""

from __future__ import annotations

import json

import pytest

from bot.domain.execution import ExecRequest, ExecutionRefused, build_request
from bot.http_client import SharedHttp
from bot.redact import Redactor
from integrations.executors.http import HttpExecutor
from tests.servers.remediation_api import RemediationApi

SECRET = "s3cr3t-breaker-token-77"


@pytest.fixture
async def shared():
    http = SharedHttp(timeout=10)
    yield http
    await http.aclose()


def executor(api: RemediationApi, shared: SharedHttp, *, allow: tuple[str, ...] | None = None, limit: int = 64 * 1024):
    return HttpExecutor(client=lambda: shared.client, allow=allow or (api.url("/actuator/"),),
                        redact=Redactor([SECRET]), max_response_bytes=limit)  # fmt: skip


def call(url: str, body: str | None = '{"updateState": "FORCE_OPEN"}', timeout: float = 10) -> ExecRequest:
    template = ["POST", url] + ([body] if body is not None else [])
    return build_request(action_id="a", executor="http", template=template, values={}, timeout_seconds=timeout)


async def test_posts_the_json_body_to_an_allowed_url(remediation_api, shared):
    result = await executor(remediation_api, shared).run(call(remediation_api.url("/actuator/circuitbreakers/pay")))
    assert result.ok and result.http_status == 200 and result.output == '{"ok": true}'
    (got,) = remediation_api.received
    assert (got.method, got.path, got.json()) == (
        "POST",
        "/actuator/circuitbreakers/pay",
        {"updateState": "FORCE_OPEN"},
    )
    assert got.headers["Content-Type"] == "application/json"
    assert result.summary.startswith("answered 200 in ") and "/actuator/circuitbreakers/pay" in result.summary


async def test_a_runbook_step_with_placeholders_reaches_the_service(remediation_api, shared):
    base = remediation_api.url("/")
    request = build_request(
        action_id="a", executor="http", values={"breaker": "payments"},
        template=["POST", base + "actuator/circuitbreakers/{{breaker}}", '{"updateState":"CLOSE","name":"{{breaker}}"}'],
    )  # fmt: skip
    assert (await executor(remediation_api, shared).run(request)).ok
    assert remediation_api.received[0].json() == {"updateState": "CLOSE", "name": "payments"}


@pytest.mark.parametrize(
    "path",
    ["/admin/shutdown", "/actuatorx/y", "/actuator/../admin", "/actuator/%2e%2e/admin", "/actuator/x#frag"],
)
async def test_urls_off_the_allow_list_are_refused_and_nothing_is_sent(remediation_api, shared, path):
    with pytest.raises(ExecutionRefused, match="nothing was sent"):
        await executor(remediation_api, shared).run(call(remediation_api.url(path)))
    assert remediation_api.received == []


async def test_another_port_or_user_info_is_refused(remediation_api, shared):
    url = remediation_api.url("/actuator/x")
    host_port = url.split("/")[2]
    for bad in (url.replace(host_port, "127.0.0.1:1"), url.replace(host_port, f"user:pw@{host_port}")):
        with pytest.raises(ExecutionRefused):
            await executor(remediation_api, shared).preflight(call(bad))
    assert remediation_api.received == []


async def test_an_error_status_is_a_failed_result_and_redirects_are_not_followed(remediation_api, shared):
    remediation_api.answer_next(302, "", {"Location": remediation_api.url("/actuator/elsewhere")})
    remediation_api.answer_next(503, '{"error": "down"}')
    ex = executor(remediation_api, shared)
    moved = await ex.run(call(remediation_api.url("/actuator/x")))
    assert not moved.ok and moved.http_status == 302
    down = await ex.run(call(remediation_api.url("/actuator/x")))
    assert not down.ok and down.http_status == 503 and "down" in down.output
    assert [r.path for r in remediation_api.received] == ["/actuator/x", "/actuator/x"]


async def test_the_response_is_capped_and_redacted(remediation_api, shared):
    remediation_api.answer_next(200, json.dumps({"token": SECRET, "pad": "x" * 200_000}))
    result = await executor(remediation_api, shared, limit=1024).run(call(remediation_api.url("/actuator/x")))
    assert result.ok and SECRET not in result.output and "[redacted]" in result.output
    assert len(result.output.encode()) < 1200 and "[output truncated" in result.output


async def test_a_hanging_service_times_out(remediation_api, shared):
    remediation_api.hang_next()
    result = await executor(remediation_api, shared).run(call(remediation_api.url("/actuator/x"), timeout=0.5))
    assert result.timed_out and not result.ok and result.http_status is None
    assert result.summary.startswith("timed out after 0.5s")


async def test_a_refused_connection_is_a_failed_result(remediation_api, shared):
    url = "http://127.0.0.1:1/actuator/x"
    result = await executor(remediation_api, shared, allow=("http://127.0.0.1:1/actuator/",)).run(call(url))
    assert not result.ok and not result.timed_out and "ConnectError" in result.output


async def test_a_request_without_an_http_call_is_refused(remediation_api, shared):
    with pytest.raises(ExecutionRefused, match="needs an HTTP call"):
        await executor(remediation_api, shared).run(ExecRequest(action_id="a", executor="http", argv=("x",)))
