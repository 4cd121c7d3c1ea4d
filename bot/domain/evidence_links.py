"""Where a person checks a piece of evidence in one click: the Prometheus graph of its query, or the CloudWatch
console page of its metric or log group, over the incident's window (pure: URLs from settings and evidence)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from bot.domain.hypotheses import Evidence

_CW_METRIC = re.compile(
    r"^cloudwatch:(?P<ns>.+)/(?P<metric>[^/{]+)\{(?P<dims>[^}]*)\} (?P<stat>\S+) (?P<period>\d+)s\Z"
)
_CW_LOGS = re.compile(r"^logs:(?P<group>\S+) (?P<filter>.*)$", re.S)
_JSURL_SAFE = re.compile(r"[A-Za-z0-9_.-]")


def _jsurl(text: str) -> str:
    """A string in the CloudWatch console's URL encoding (JSURL: `'` prefix, other characters as `*hh`)."""
    return "'" + "".join(ch if _JSURL_SAFE.match(ch) else f"*{ord(ch):02x}" for ch in text)


def _console_part(text: str) -> str:
    """A path part of the CloudWatch Logs console: percent-encoded, then `%` as `$25`."""
    return quote(quote(text, safe=""), safe="").replace("%", "$")


def _without_credentials(url: str) -> str:
    """The URL without a user and password (PROMETHEUS_URL may carry them; a chat link must not)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class EvidenceLinks:
    """The bases of the links: PROMETHEUS_URL and the AWS region (either may be missing: no link then)."""

    prometheus_url: str | None = None
    aws_region: str | None = None
    before: timedelta = timedelta(hours=1)
    after: timedelta = timedelta(minutes=15)

    def link(self, evidence: Evidence, anchor: datetime) -> str | None:
        """The page that shows this evidence around the incident's start, if there is one."""
        graph = evidence.graph
        if graph and self.prometheus_url:
            return self.prometheus_graph(graph, anchor)
        if not self.aws_region:
            return None
        metric = _CW_METRIC.match(evidence.query)
        if metric:
            return self.cloudwatch_metric(metric, anchor)
        logs = _CW_LOGS.match(evidence.query)
        if logs:
            return self.cloudwatch_logs(logs.group("group"), logs.group("filter"), anchor)
        return None

    def prometheus_graph(self, expr: str, anchor: datetime) -> str:
        """`PROMETHEUS_URL/graph?g0.expr=...`: the query graphed over the window ending after the anchor."""
        end = (anchor + self.after).astimezone(UTC)
        params = {
            "g0.expr": expr,
            "g0.tab": "0",
            "g0.range_input": f"{int((self.before + self.after).total_seconds())}s",
            "g0.end_input": end.strftime("%Y-%m-%d %H:%M:%S"),
        }
        return f"{_without_credentials(self.prometheus_url or '').rstrip('/')}/graph?{urlencode(params)}"

    def _console(self) -> str:
        region = self.aws_region or ""
        return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={quote(region, safe='')}"

    def cloudwatch_metric(self, match: re.Match[str], anchor: datetime) -> str:
        """The CloudWatch console graph of one metric (namespace, name, dimensions, stat, period)."""
        dims = [part.split("=", 1) for part in match.group("dims").split(",") if "=" in part]
        metric = [match.group("ns"), match.group("metric"), *(x for kv in dims for x in kv)]
        start = (anchor - self.before).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = (anchor + self.after).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        graph = (
            f"~(metrics~(~(~{'~'.join(_jsurl(m) for m in metric)}))~view~'timeSeries~stat~{_jsurl(match.group('stat'))}"
            f"~period~{match.group('period')}~start~{_jsurl(start)}~end~{_jsurl(end)}"
            f"~region~{_jsurl(self.aws_region or '')})"
        )
        return f"{self._console()}#metricsV2:graph={graph}"

    def cloudwatch_logs(self, group: str, pattern: str, anchor: datetime) -> str:
        """The CloudWatch Logs console: the group's events matching the filter around the anchor."""
        start = int((anchor - self.before).timestamp() * 1000)
        end = int((anchor + self.after).timestamp() * 1000)
        query = quote(f"?filterPattern={quote(pattern, safe='')}&start={start}&end={end}", safe="").replace("%", "$")
        return f"{self._console()}#logsV2:log-groups/log-group/{_console_part(group)}/log-events{query}"
