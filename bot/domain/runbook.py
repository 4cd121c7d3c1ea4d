"""Runbooks: the schema of `runbooks/<id>.md` (YAML front matter + Markdown body), parsing with line numbers,
and the `{{placeholder}}` templates their queries and commands are written in.

A runbook file is data only:

    ---
    id: error-rate-spike            # same as the file name
    title: Error-rate spike
    match: {alertnames: ["*ErrorRate*"], labels: {}, keywords: [5xx, error]}
    params: {error_ratio: "0.05"}   # runbook placeholders and their defaults (alert labels override)
    hypotheses:
      - id: bad-deploy
        title: "A deploy of {{deployment}} broke it"
        cause: bad_deploy
        prior: 0.3
        query: {promql: 'max(changes(kube_deployment_metadata_generation{deployment="{{deployment}}"}[{{lookback}}]))'}
        supports: {above: 0}
        contradicts: {below: 1}
    remediation:
      - {id: rollback, title: Roll back, risk: medium, executor: kubectl,
         argv: [kubectl, rollout, undo, "deployment/{{deployment}}", -n, "{{namespace}}"]}
    ---
    Markdown for people: symptoms, diagnosis, remediation, escalation.

Parsing the YAML (with line numbers) and reading the directory live in `bot/runbooks.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain.causes import Cause
from bot.domain.incident import Severity

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
DURATION = re.compile(r"^[1-9][0-9]{0,5}[smhdw]\Z")
# What a value taken from an alert label may hold before it is put into a query or a command: no quote,
# backslash, brace, space or shell character can get through, so it cannot leave its PromQL string.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/@-]{1,253}\Z")

# The placeholders every runbook may use, with a sample value (what `warroom runbooks lint` renders).
BUILTIN_PLACEHOLDERS: dict[str, str] = {
    "service": "checkout",  # the alerting service (value of the service label)
    "service_label": "service",  # the label that names services in the series: `service`, else `job`
    "namespace": "shop",  # the alert's namespace label (a regex: `.*` when the alert has none)
    "deployment": "checkout",  # the Kubernetes deployment of the service (default: the same name)
    "instance": "10.0.0.1:9100",  # the alert's instance label (a regex: `.*` when the alert has none)
    "window": "5m",  # rate window
    "lookback": "30m",  # how far back a change (deploy, config) counts as recent
    "baseline": "1h",  # how far back "normal" is, for `offset {{baseline}}` comparisons
}
DURATION_PLACEHOLDERS = frozenset({"window", "lookback", "baseline"})


class Risk(StrEnum):
    """Risk tier of a remediation step (policy decides auto / approval / forbidden from it)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class UndefinedPlaceholder(KeyError):
    """A template names a placeholder that has no value."""


def placeholders(template: str) -> list[str]:
    """The placeholder names a template uses, in order."""
    return PLACEHOLDER.findall(template)


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute every `{{name}}`; raise UndefinedPlaceholder when a name has no value."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UndefinedPlaceholder(name)
        return values[name]

    return PLACEHOLDER.sub(substitute, template)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    """A test on an observed number: `above` (x > above) and/or `below` (x < below)."""

    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if self.above is None and self.below is None:
            raise ValueError("give `above`, `below` or both")
        if self.above is not None and self.below is not None and self.above >= self.below:
            raise ValueError("`above` must be smaller than `below`")
        return self

    def holds(self, value: float) -> bool:
        """True when the value passes every bound."""
        return (self.above is None or value > self.above) and (self.below is None or value < self.below)

    @property
    def threshold(self) -> float:
        """The bound shown next to an observed value (`above` when both are given)."""
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    def describe(self) -> str:
        """`> 0.05`, `< 1`, or `> 1 and < 5`."""
        parts = []
        if self.above is not None:
            parts.append(f"> {self.above:g}")
        if self.below is not None:
            parts.append(f"< {self.below:g}")
        return " and ".join(parts)


class CloudWatchMetric(_Model):
    """A CloudWatch metric read with GetMetricData."""

    namespace: str = Field(min_length=1, max_length=255)
    metric: str = Field(min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(default_factory=dict, max_length=30)
    stat: str = Field(default="Average", pattern=r"^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$")
    period: int = Field(default=60, ge=1, le=86400)


class CloudWatchLogs(_Model):
    """A CloudWatch Logs filter: the observed value is the number of matching events in the window."""

    log_group: str = Field(min_length=1, max_length=512)
    filter: str = Field(min_length=1, max_length=1024)


class Query(_Model):
    """One diagnostic query: PromQL, a CloudWatch metric or a CloudWatch Logs filter (exactly one).

    The result is reduced to one number with `reduce` over the series (PromQL) or datapoints (CloudWatch);
    an empty result is no data (inconclusive evidence): write `or vector(0)` when absence means zero.
    `window` is how far back from the incident time CloudWatch reads (PromQL says it in the expression).
    """

    promql: str | None = Field(default=None, min_length=1, max_length=4000)
    cloudwatch_metric: CloudWatchMetric | None = None
    cloudwatch_logs: CloudWatchLogs | None = None
    reduce: Literal["max", "min", "sum", "avg"] = "max"
    window: str = "15m"

    @model_validator(mode="after")
    def _exactly_one(self) -> Query:
        given = [self.promql is not None, self.cloudwatch_metric is not None, self.cloudwatch_logs is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of promql, cloudwatch_metric, cloudwatch_logs")
        if not DURATION.match(self.window):
            raise ValueError(f"window {self.window!r} is not a duration like 15m")
        return self

    @property
    def kind(self) -> str:
        """`promql`, `cloudwatch_metric` or `cloudwatch_logs`."""
        if self.promql is not None:
            return "promql"
        return "cloudwatch_metric" if self.cloudwatch_metric is not None else "cloudwatch_logs"

    def templates(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every templated string with its path inside the query (for placeholder checks)."""
        if self.promql is not None:
            yield ("promql",), self.promql
        if self.cloudwatch_metric is not None:
            yield ("cloudwatch_metric", "namespace"), self.cloudwatch_metric.namespace
            yield ("cloudwatch_metric", "metric"), self.cloudwatch_metric.metric
            for name, value in self.cloudwatch_metric.dimensions.items():
                yield ("cloudwatch_metric", "dimensions", name), value
        if self.cloudwatch_logs is not None:
            yield ("cloudwatch_logs", "log_group"), self.cloudwatch_logs.log_group
            yield ("cloudwatch_logs", "filter"), self.cloudwatch_logs.filter


class HypothesisTemplate(_Model):
    """A possible cause the runbook knows, with the query that tests it and what its answer means."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    cause: Cause
    prior: float = Field(gt=0, lt=1)
    blames: str = Field(default="{{service}}", min_length=1, max_length=200)  # the component it blames
    query: Query
    supports: Condition
    contradicts: Condition | None = None
    lr_supports: float = Field(default=4.0, gt=1, le=100)
    lr_contradicts: float = Field(default=0.25, gt=0, lt=1)

    @model_validator(mode="after")
    def _disjoint(self) -> HypothesisTemplate:
        if self.contradicts is not None:
            for probe in _probes(self.supports, self.contradicts):
                if self.supports.holds(probe) and self.contradicts.holds(probe):
                    raise ValueError(f"supports and contradicts both hold for {probe:g}")
        return self


def _probes(a: Condition, b: Condition) -> list[float]:
    """Values around every bound: enough to find an overlap of two interval conditions."""
    bounds = [x for c in (a, b) for x in (c.above, c.below) if x is not None]
    out: list[float] = []
    for x in bounds:
        out.extend((x - 1e-9 * max(1.0, abs(x)), x + 1e-9 * max(1.0, abs(x))))
    return out


class Verification(_Model):
    """The query run after a step, and what it must show."""

    query: Query
    expect: Condition


class Step(_Model):
    """A remediation step: argv template (never a shell), risk tier, executor, rollback and verification."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    risk: Risk
    executor: Literal["dry_run", "kubectl", "command", "http"]
    argv: list[str] = Field(min_length=1, max_length=64)
    rollback: list[str] | None = Field(default=None, min_length=1, max_length=64)
    verify: Verification | None = None

    @field_validator("argv", "rollback")
    @classmethod
    def _argv_items(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if not item or len(item) > 512:
                raise ValueError("every argv item must be 1 to 512 characters")
        return value


class MatchRules(_Model):
    """When a runbook applies: alert name globs, label value globs, keywords (all case-insensitive)."""

    alertnames: list[str] = Field(default_factory=list, max_length=50)
    labels: dict[str, str] = Field(default_factory=dict, max_length=20)
    keywords: list[str] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> MatchRules:
        if not (self.alertnames or self.labels or self.keywords):
            raise ValueError("give at least one of alertnames, labels, keywords")
        return self


class Runbook(_Model):
    """One runbook: what it matches, the hypotheses it tests, the remediation it offers, and its body."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=1000)
    severity: Severity | None = None  # the severity this scenario deserves at least, when it has one
    diagnose_only: bool = False  # never remediate automatically (e.g. a PII leak: people decide)
    match: MatchRules
    services: list[str] = Field(default_factory=list, max_length=50)  # service globs; empty = any
    params: dict[str, str] = Field(default_factory=dict, max_length=30)
    hypotheses: list[HypothesisTemplate] = Field(min_length=1, max_length=10)
    remediation: list[Step] = Field(default_factory=list, max_length=20)
    body: str = ""

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return Severity.parse(str(value)) if isinstance(value, str | int) else value

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, str]) -> dict[str, str]:
        for name, default in value.items():
            if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", name):
                raise ValueError(f"param name {name!r} must be lowercase letters, digits and _")
            if name in BUILTIN_PLACEHOLDERS:
                raise ValueError(f"param {name!r} is a built-in placeholder")
            if any(ch in default for ch in '"\\`'):
                raise ValueError(f"param {name!r}: a default may not hold quotes or backslashes")
            for used in placeholders(default):
                if used not in BUILTIN_PLACEHOLDERS:
                    raise ValueError(f"param {name!r}: a default may only use built-in placeholders, not {used!r}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Runbook:
        for kind, ids in (("hypothesis", [h.id for h in self.hypotheses]), ("step", [s.id for s in self.remediation])):
            seen: set[str] = set()
            for item in ids:
                if item in seen:
                    raise ValueError(f"duplicate {kind} id {item!r}")
                seen.add(item)
        if self.diagnose_only and any(s.risk is not Risk.HIGH for s in self.remediation):
            raise ValueError("a diagnose_only runbook may only list high-risk (approval) steps")
        return self

    def templates(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every templated string with its path in the front matter."""
        for i, h in enumerate(self.hypotheses):
            yield ("hypotheses", i, "title"), h.title
            yield ("hypotheses", i, "blames"), h.blames
            for path, text in h.query.templates():
                yield ("hypotheses", i, "query", *path), text
        for i, s in enumerate(self.remediation):
            yield ("remediation", i, "title"), s.title
            for j, arg in enumerate(s.argv):
                yield ("remediation", i, "argv", j), arg
            for j, arg in enumerate(s.rollback or []):
                yield ("remediation", i, "rollback", j), arg
            if s.verify is not None:
                for path, text in s.verify.query.templates():
                    yield ("remediation", i, "verify", "query", *path), text

    def queries(self) -> Iterator[tuple[tuple[str | int, ...], Query]]:
        """Every query (hypotheses and verifications) with its path."""
        for i, h in enumerate(self.hypotheses):
            yield ("hypotheses", i, "query"), h.query
        for i, s in enumerate(self.remediation):
            if s.verify is not None:
                yield ("remediation", i, "verify", "query"), s.verify.query

    def undefined_placeholders(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(path, name) of every placeholder that is neither built in nor a param."""
        known = set(BUILTIN_PLACEHOLDERS) | set(self.params)
        return [(path, name) for path, text in self.templates() for name in placeholders(text) if name not in known]

    def sample_values(self) -> dict[str, str]:
        """Values for every placeholder: the built-in samples and the params' defaults (used by lint)."""
        return {**BUILTIN_PLACEHOLDERS, **{k: render(v, BUILTIN_PLACEHOLDERS) for k, v in self.params.items()}}


def render_query(query: Query, values: Mapping[str, str]) -> Query:
    """The query with every placeholder substituted; UndefinedPlaceholder when one has no value."""
    update: dict[str, Any] = {}
    if query.promql is not None:
        update["promql"] = render(query.promql, values)
    if query.cloudwatch_metric is not None:
        m = query.cloudwatch_metric
        update["cloudwatch_metric"] = m.model_copy(
            update={
                "namespace": render(m.namespace, values),
                "metric": render(m.metric, values),
                "dimensions": {k: render(v, values) for k, v in m.dimensions.items()},
            }
        )
    if query.cloudwatch_logs is not None:
        lg = query.cloudwatch_logs
        update["cloudwatch_logs"] = lg.model_copy(
            update={"log_group": render(lg.log_group, values), "filter": render(lg.filter, values)}
        )
    return query.model_copy(update=update)


def placeholder_values(
    *,
    labels: Mapping[str, str],
    service: str | None,
    service_label: str,
    deployment: str | None = None,
    durations: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The values of an incident's placeholders. A value that is not a plain name (quotes, spaces, braces...)
    is left out, so the queries that need it are not run rather than run with it; an alert label of a param's
    name overrides the param's default; empty values are left out (the param is not set)."""
    values: dict[str, str] = {"service_label": service_label}
    if service and SAFE_VALUE.match(service):
        values["service"] = service
        dep = deployment or service
        if SAFE_VALUE.match(dep):
            values["deployment"] = dep
    for name in ("namespace", "instance"):
        value = labels.get(name, "")
        values[name] = value if SAFE_VALUE.match(value) else ".*"
    for name, default in {"window": "5m", "lookback": "30m", "baseline": "1h", **(durations or {})}.items():
        if DURATION.match(default):
            values[name] = default
    for name, default in (params or {}).items():
        label = labels.get(name)
        if label is not None and SAFE_VALUE.match(label):
            values[name] = label
            continue
        try:
            value = render(default, values)
        except UndefinedPlaceholder:
            continue
        if value:
            values[name] = value
    return values
