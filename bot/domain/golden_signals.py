"""Generic hypotheses tried for every incident, whatever runbook matched: the golden signals of the alerting
service (errors, latency, traffic, saturation) and a recent deploy or configuration change.

They are templates like a runbook's (same placeholders, PromQL against the usual exporters), so
`warroom runbooks lint` has promtool parse them too. Their priors are lower than a matched runbook's:
a runbook that fits the alert knows more.
"""

from __future__ import annotations

from bot.domain.causes import Cause
from bot.domain.runbook import Condition, HypothesisTemplate, Query

GOLDEN_RUNBOOK = "golden-signals"

_SVC = '{{service_label}}="{{service}}"'
_PODS = 'namespace=~"{{namespace}}", pod=~"{{deployment}}-.*"'
_P90 = (
    "(histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{%s}[{{window}}]%s)))"
    ' or max(http_request_duration_seconds{%s, quantile="0.9"}%s))'
)


def _p90(offset: str = "") -> str:
    return _P90 % (_SVC, offset, _SVC, offset)


GOLDEN_SIGNALS: tuple[HypothesisTemplate, ...] = (
    HypothesisTemplate(
        id="recent-deploy",
        title="A recent rollout of {{deployment}} broke it",
        cause=Cause.BAD_DEPLOY,
        prior=0.2,
        query=Query(
            promql='max(changes(kube_deployment_metadata_generation{namespace=~"{{namespace}}", '
            'deployment="{{deployment}}"}[{{lookback}}]))'
        ),
        supports=Condition(above=0.5),
        contradicts=Condition(below=0.5),
        lr_supports=5.0,
        lr_contradicts=0.3,
    ),
    HypothesisTemplate(
        id="new-image",
        title="{{deployment}} started running a new image",
        cause=Cause.BAD_DEPLOY,
        prior=0.1,
        query=Query(
            promql="count(count by (image) (count_over_time(kube_pod_container_info{" + _PODS + ', container!=""}'
            "[{{lookback}}])))"
        ),
        supports=Condition(above=1.5),
        contradicts=Condition(below=1.5),
        lr_supports=5.0,
        lr_contradicts=0.5,
    ),
    HypothesisTemplate(
        id="config-change",
        title="A configuration change in {{namespace}}",
        cause=Cause.CONFIG_CHANGE,
        prior=0.08,
        query=Query(
            promql='max(changes(kube_configmap_metadata_resource_version{namespace=~"{{namespace}}"}[{{lookback}}]))'
        ),
        supports=Condition(above=0.5),
        contradicts=Condition(below=0.5),
        lr_supports=3.0,
        lr_contradicts=0.5,
    ),
    HypothesisTemplate(
        id="error-ratio",
        title="{{service}} answers with errors",
        cause=Cause.ERROR_SPIKE,
        prior=0.12,
        query=Query(
            promql="sum(rate(http_requests_total{" + _SVC + ', code=~"5.."}[{{window}}])) '
            "/ sum(rate(http_requests_total{" + _SVC + "}[{{window}}]))"
        ),
        supports=Condition(above=0.05),
        contradicts=Condition(below=0.005),
        lr_supports=3.0,
        lr_contradicts=0.3,
    ),
    HypothesisTemplate(
        id="latency-up",
        title="{{service}} got slower",
        cause=Cause.LATENCY_REGRESSION,
        prior=0.1,
        query=Query(promql=f"{_p90()} / {_p90(' offset {{baseline}}')}"),
        supports=Condition(above=1.5),
        contradicts=Condition(below=1.1),
        lr_supports=3.0,
        lr_contradicts=0.3,
    ),
    HypothesisTemplate(
        id="traffic-surge",
        title="{{service}} gets more requests than usual",
        cause=Cause.TRAFFIC_SURGE,
        prior=0.08,
        query=Query(
            promql="sum(rate(http_requests_total{"
            + _SVC
            + "}[{{window}}])) / sum(rate(http_requests_total{"
            + _SVC
            + "}[{{window}}] offset {{baseline}}))"
        ),
        supports=Condition(above=2.0),
        contradicts=Condition(below=1.3),
        lr_supports=4.0,
        lr_contradicts=0.4,
    ),
    HypothesisTemplate(
        id="cpu-saturation",
        title="{{deployment}} runs out of CPU",
        cause=Cause.CPU_SATURATION,
        prior=0.1,
        query=Query(
            promql="max(sum by (pod) (rate(container_cpu_usage_seconds_total{" + _PODS + ', container!="", '
            'container!="POD"}[{{window}}])) / sum by (pod) (kube_pod_container_resource_limits{'
            + _PODS
            + ', resource="cpu"}))'
        ),
        supports=Condition(above=0.85),
        contradicts=Condition(below=0.5),
        lr_supports=4.0,
        lr_contradicts=0.4,
    ),
)
