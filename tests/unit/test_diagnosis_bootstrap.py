"""What the composition root makes of the diagnosis settings: sources from PROMETHEUS_URL and AWS_REGION, the
runbook library always, nothing to query (no reactor) without a source or with `diagnosis.enabled: false`."""

from __future__ import annotations

from bot.bootstrap.diagnosis import RoutedMetrics, build_diagnosis
from bot.config import Settings, parse_config


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)


def test_prometheus_and_cloudwatch_are_routed_by_query_kind():
    deps, closers = build_diagnosis(
        settings(PROMETHEUS_URL="http://127.0.0.1:9", AWS_REGION="eu-west-1", AWS_ENDPOINT_URL="http://127.0.0.1:9"),
        parse_config("diagnosis: {max_queries: 7, dependencies: {web: [db]}}"),
    )
    try:
        assert deps.enabled and isinstance(deps.metrics, RoutedMetrics)
        assert deps.metrics.supports("promql") and deps.metrics.supports("cloudwatch_metric")
        assert deps.logs is not None and deps.logs.supports("cloudwatch_logs")
        assert deps.settings.max_queries == 7 and deps.settings.dependencies == {"web": ("db",)}
        assert deps.links.prometheus_url == "http://127.0.0.1:9" and deps.links.aws_region == "eu-west-1"
        assert len(deps.runbooks) >= 17 and deps.charts is not None
    finally:
        for close in closers:
            close()
    assert len(closers) == 2


def test_off_without_a_source_or_when_disabled_but_runbooks_still_load():
    bare, closers = build_diagnosis(settings(), parse_config(""))
    assert not bare.enabled and closers == [] and len(bare.runbooks) >= 17
    off, closers = build_diagnosis(
        settings(PROMETHEUS_URL="http://127.0.0.1:9"), parse_config("diagnosis: {enabled: false}")
    )
    assert not off.enabled and closers == [] and off.runbooks


def test_unsafe_names_in_the_service_map_are_refused():
    import pytest

    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="dependencies"):
        parse_config('diagnosis: {dependencies: {web: ["db\\"} or vector(1) or {x=\\""]}}')
