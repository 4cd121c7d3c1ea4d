"""The `remediation.executors` section, the registry the composition root builds from it, and the dry run."""

from __future__ import annotations

import pytest

from bot.bootstrap import build
from bot.bootstrap.executors import build_executors
from bot.config import ConfigError, parse_config
from bot.domain.execution import ExecRequest, ExecutionRefused, HttpCall, build_request
from bot.http_client import SharedHttp
from bot.redact import Redactor
from integrations.executors.dry_run import DryRunExecutor
from integrations.executors.output import capped_output
from tests.e2e.harness import bot_settings

FULL = """
remediation:
  executors:
    fallback_to_dry_run: false
    timeout_seconds: 30
    path: /opt/tools/bin:/usr/bin:/bin
    env: {HOME: /var/lib/warroom}
    command: {enabled: true, allow: [traffic-shift, /opt/tools/bin/flush-cache]}
    kubectl: {enabled: true, binary: /usr/local/bin/kubectl, context: prod-eu, kubeconfig: /etc/warroom/kubeconfig}
    http: {enabled: true, allow: ["http://*.shop:8080/actuator/"], max_response_bytes: 8192}
"""


def test_defaults_run_nothing_for_real():
    config = parse_config("").remediation.executors
    registry = build_executors(config, http=SharedHttp(), redact=Redactor())
    assert registry.names == ("dry_run",) and registry.fallback_to_dry_run
    assert registry.resolve("kubectl").name == "dry_run"
    assert config.timeout_seconds == 120 and config.output_limit_bytes == 65536


def test_the_full_section_enables_each_executor():
    config = parse_config(FULL).remediation.executors
    registry = build_executors(config, http=SharedHttp(), redact=Redactor())
    assert registry.names == ("command", "dry_run", "http", "kubectl")
    with pytest.raises(ExecutionRefused, match="not enabled"):
        registry.resolve("ansible")


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("http: {allow: ['ftp://x/']}", "not an allowed URL prefix"),
        ("command: {allow: ['rm -rf']}", "neither a program name nor an absolute path"),
        ("command: {allow: ['/opt/../bin/sh']}", "neither a program name"),
        ("env: {PATH: /tmp}", "PATH is `path`"),
        ("env: {lower: x}", "not an environment variable name"),
        ("path: relative/bin", "path"),
        ("timeout_seconds: 0", "timeout_seconds"),
        ("kubectl: {kubeconfig: relative}", "kubeconfig"),
        ("shell: true", "shell"),
    ],
)
def test_bad_settings_are_reported(snippet, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(f"remediation:\n  executors:\n    {snippet}\n")


async def test_the_dry_run_says_exactly_what_would_run():
    req = build_request(
        action_id="a", executor="kubectl", values={"deployment": "checkout", "namespace": "shop"},
        template=["kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"], timeout_seconds=30,
    )  # fmt: skip
    result = await DryRunExecutor().run(req)
    assert result.ok and result.dry_run and result.exit_code is None and result.executor == "dry_run"
    assert "kubectl rollout undo deployment/checkout -n shop" in result.output
    assert '["kubectl", "rollout", "undo", "deployment/checkout", "-n", "shop"]' in result.output
    assert "nothing was executed" in result.output and "timeout: 30s" in result.output
    assert result.summary == "dry run, nothing ran: would run kubectl rollout undo deployment/checkout -n shop"


async def test_the_dry_run_of_an_http_call_shows_method_url_and_body():
    req = ExecRequest(action_id="a", executor="http", argv=("POST", "http://x/y", '{"a":1}'),
                      http=HttpCall("POST", "http://x/y", {"a": 1}))  # fmt: skip
    output = (await DryRunExecutor().run(req)).output
    assert "POST http://x/y" in output and 'JSON body: {"a": 1}' in output


def test_capped_output_keeps_short_output_whole_and_redacts():
    redact = Redactor(["hunter2-secret"])
    assert capped_output(b"ok hunter2-secret\n", dropped=0, limit=1024, redact=redact) == "ok [redacted]\n"
    cut = capped_output(b"x" * 1500, dropped=0, limit=1024, redact=redact)
    assert cut.startswith("x" * 1024) and "about 476 more bytes" in cut
    assert capped_output("é".encode() * 600, dropped=0, limit=1023, redact=redact).count("é") == 511


async def test_the_bot_is_built_with_the_configured_executors(tmp_path):
    config = parse_config('remediation:\n  executors:\n    command: {enabled: true, allow: ["true"]}\n')
    container = build(bot_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "http://127.0.0.1:9/api/"),
                      config=config)  # fmt: skip
    try:
        assert container.executors.names == ("command", "dry_run")
        result = await container.executors.run(ExecRequest(action_id="a", executor="command", argv=("true",)))
        assert result.ok and result.exit_code == 0 and result.executor == "command"
    finally:
        await container.store.dispose()
