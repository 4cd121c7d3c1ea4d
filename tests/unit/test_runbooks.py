"""Runbook files: the schema, problems located by file and line, placeholders, duplicate ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.causes import Cause
from bot.domain.runbook import BUILTIN_PLACEHOLDERS, Condition, UndefinedPlaceholder, placeholders, render
from bot.runbooks import RunbookError, load_paths, parse_runbook

GOOD = """---
id: sample
title: Sample
match:
  alertnames: ["*ErrorRate*"]
params:
  threshold: "0.05"
hypotheses:
  - id: errors
    title: "{{service}} errs"
    cause: error_spike
    prior: 0.3
    query:
      promql: 'sum(rate(http_requests_total{{{service_label}}="{{service}}", code=~"5.."}[{{window}}]))'
    supports: {above: 0.05}
    contradicts: {below: 0.01}
remediation:
  - id: rollback
    title: Roll back
    risk: medium
    executor: kubectl
    argv: [kubectl, rollout, undo, "deployment/{{deployment}}", -n, "{{namespace}}"]
---
# Sample

Body for people.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_a_good_runbook_parses_with_its_body() -> None:
    runbook, _, _ = parse_runbook(GOOD, expected_id="sample")
    assert runbook.id == "sample"
    assert runbook.hypotheses[0].cause is Cause.ERROR_SPIKE
    assert runbook.body.startswith("# Sample")
    assert runbook.remediation[0].argv[3] == "deployment/{{deployment}}"


def test_a_missing_field_names_its_line() -> None:
    text = GOOD.replace("    cause: error_spike\n", "")
    with pytest.raises(RunbookError) as err:
        parse_runbook(text)
    (problem,) = err.value.problems
    assert "cause" in problem.message and "Field required" in problem.message
    assert problem.line == 9  # the `- id: errors` line of the hypothesis that lacks it


def test_a_wrong_value_names_the_line_of_the_key() -> None:
    text = GOOD.replace("prior: 0.3", "prior: 1.5")
    with pytest.raises(RunbookError) as err:
        parse_runbook(text)
    (problem,) = err.value.problems
    assert problem.line == GOOD.splitlines().index("    prior: 0.3") + 1
    assert "prior" in problem.message


def test_an_unknown_cause_is_refused() -> None:
    with pytest.raises(RunbookError) as err:
        parse_runbook(GOOD.replace("cause: error_spike", "cause: gremlins"))
    assert "cause" in err.value.problems[0].message


def test_an_undefined_placeholder_is_reported_with_its_line() -> None:
    text = GOOD.replace("[{{window}}]", "[{{windw}}]")
    with pytest.raises(RunbookError) as err:
        parse_runbook(text)
    (problem,) = err.value.problems
    assert "undefined placeholder {{windw}}" in problem.message
    assert problem.line == GOOD.splitlines().index("      promql: " + GOOD.split("promql: ")[1].splitlines()[0]) + 1


def test_params_define_placeholders_and_may_use_builtins() -> None:
    text = GOOD.replace('threshold: "0.05"', 'threshold: "0.05"\n  cert: "{{service}}-tls"').replace(
        "title: Roll back", "title: Renew {{cert}}"
    )
    runbook, _, _ = parse_runbook(text)
    assert runbook.sample_values()["cert"] == "checkout-tls"


def test_a_param_may_not_shadow_a_builtin_or_hold_quotes() -> None:
    with pytest.raises(RunbookError):
        parse_runbook(GOOD.replace('threshold: "0.05"', 'service: "x"'))
    with pytest.raises(RunbookError):
        parse_runbook(GOOD.replace('threshold: "0.05"', "threshold: 'a\"b'"))


def test_supports_and_contradicts_may_not_overlap() -> None:
    with pytest.raises(RunbookError) as err:
        parse_runbook(GOOD.replace("contradicts: {below: 0.01}", "contradicts: {below: 0.1}"))
    assert "both hold" in err.value.problems[0].message


def test_a_query_is_exactly_one_kind() -> None:
    text = GOOD.replace("    query:\n", "    query:\n      cloudwatch_logs: {log_group: /x, filter: ERROR}\n")
    with pytest.raises(RunbookError) as err:
        parse_runbook(text)
    assert "exactly one" in err.value.problems[0].message


def test_front_matter_is_required_and_yaml_errors_have_lines() -> None:
    with pytest.raises(RunbookError):
        parse_runbook("# just markdown\n")
    with pytest.raises(RunbookError) as err:
        parse_runbook(GOOD.replace('  alertnames: ["*ErrorRate*"]', '  alertnames: ["*ErrorRate*"'))
    assert err.value.problems[0].line >= 4
    assert err.value.problems[0].message.startswith("YAML")


def test_id_must_equal_the_file_name_and_be_unique(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "sample.md", GOOD)
    write(b, "sample.md", GOOD)
    write(a, "other.md", GOOD)
    loaded = load_paths([a, b])
    assert [r.id for r in loaded.runbooks] == ["sample"]
    messages = {(Path(f.path).parent.name, Path(f.path).name, f.line, f.message) for f in loaded.findings}
    assert ("a", "other.md", 2, "id: 'sample' must equal the file name") in messages
    assert any(m[0] == "b" and "duplicate id 'sample'" in m[3] and m[2] == 2 for m in messages)


def test_render_substitutes_and_refuses_unknown_names() -> None:
    assert render('x{{{service_label}}="{{ service }}"}', {"service_label": "job", "service": "api"}) == 'x{job="api"}'
    assert placeholders("{{{a}}} {{b}}") == ["a", "b"]
    with pytest.raises(UndefinedPlaceholder):
        render("{{nope}}", {})


def test_conditions() -> None:
    assert Condition(above=1).holds(2) and not Condition(above=1).holds(1)
    assert Condition(below=1).holds(0.5)
    assert Condition(above=1, below=3).describe() == "> 1 and < 3"
    with pytest.raises(ValueError):
        Condition()


def test_the_shipped_library_has_the_design_scenarios() -> None:
    loaded = load_paths([Path(__file__).resolve().parents[2] / "runbooks"])
    assert loaded.findings == []
    ids = {r.id for r in loaded.runbooks}
    wanted = {
        "service-restart",
        "scale-up-down",
        "database-failover",
        "cache-invalidation",
        "circuit-breaker",
        "deployment-rollback",
        "dns-traffic-failover",
        "rate-limiting",
        "zombie-processes",
        "connection-pool-reset",
        "disk-cleanup",
        "certificate-renewal",
        "error-rate-spike",
        "latency-regression",
        "pii-leak",
        "cost-spike",
        "quality-regression",
    }
    assert wanted <= ids
    pii = next(r for r in loaded.runbooks if r.id == "pii-leak")
    assert pii.diagnose_only and pii.severity is not None and pii.severity.value == "SEV1"
    text = " ".join(q.promql or "" for r in loaded.runbooks for _, q in r.queries())
    for metric in (
        "node_cpu_seconds_total",
        "node_filesystem_avail_bytes",
        "kube_pod_container_status_restarts_total",
        "kube_deployment_metadata_generation",
        "container_cpu_usage_seconds_total",
        "http_request_duration_seconds_bucket",
        'quantile="0.9"',
        "probe_success",
        "probe_ssl_earliest_cert_expiry",
        "pg_up",
        "hikaricp_connections_pending",
    ):
        assert metric in text, metric
    assert set(BUILTIN_PLACEHOLDERS) >= {"service", "service_label", "namespace", "deployment"}
