"""MetricsSource + LogSource on AWS CloudWatch with boto3 (GetMetricData, Logs FilterLogEvents), in worker threads.

boto3 reads its own configuration (`AWS_*`, `AWS_ENDPOINT_URL`); every call has connect and read timeouts and
no retries beyond one, so a slow region costs at most the caller's budget. Failures become `QueryError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bot.domain.metrics import Series
from bot.domain.ports import QueryError
from bot.domain.runbook import Query

T = TypeVar("T")
MAX_LOG_PAGES = 20
MAX_LOG_EVENTS = 10_000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _window(query: Query) -> timedelta:
    return timedelta(seconds=int(query.window[:-1]) * _UNITS[query.window[-1]])


class CloudWatchSource:
    """CloudWatch metrics and logs; `close()` when done."""

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        session: Any = None,
        threads: int = 4,
        timeout: float = 5.0,
    ) -> None:
        config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1, "mode": "standard"})
        maker = session or boto3
        self._cloudwatch = maker.client("cloudwatch", region_name=region, endpoint_url=endpoint_url, config=config)
        self._logs = maker.client("logs", region_name=region, endpoint_url=endpoint_url, config=config)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cloudwatch")

    def supports(self, kind: str) -> bool:
        """CloudWatch metrics and CloudWatch Logs filters."""
        return kind in ("cloudwatch_metric", "cloudwatch_logs")

    async def _run(self, job: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, job)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise QueryError(f"cloudwatch: {code}") from None
        except BotoCoreError as exc:
            raise QueryError(f"cloudwatch unreachable: {type(exc).__name__}") from None

    async def query(self, query: Query, *, at: datetime, time_limit: float) -> list[Series]:
        """The datapoints of a metric over the query's window ending at `at` (one series)."""
        metric = query.cloudwatch_metric
        if metric is None:
            raise QueryError(f"cloudwatch metrics cannot answer a {query.kind} query")
        request = {
            "MetricDataQueries": [
                {
                    "Id": "m0",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": metric.namespace,
                            "MetricName": metric.metric,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(metric.dimensions.items())],
                        },
                        "Period": metric.period,
                        "Stat": metric.stat,
                    },
                    "ReturnData": True,
                }
            ],
            "StartTime": at - _window(query),
            "EndTime": at,
            "ScanBy": "TimestampAscending",
        }
        answer = await self._run(lambda: self._cloudwatch.get_metric_data(**request))
        labels = {"namespace": metric.namespace, "metric": metric.metric, **metric.dimensions}
        out = []
        for result in answer.get("MetricDataResults", []):
            points = sorted(
                (ts.timestamp(), float(v))
                for ts, v in zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            )
            out.append(Series(labels, tuple(points)))
        return [s for s in out if s.points]

    async def query_range(
        self, query: Query, *, start: datetime, end: datetime, step: float, time_limit: float
    ) -> list[Series]:
        """Range queries are PromQL's (the neighbourhood scan); CloudWatch does not answer them."""
        raise QueryError("cloudwatch does not answer range queries")

    async def count(self, query: Query, *, start: datetime, end: datetime, time_limit: float) -> int:
        """How many events of the log group match the filter pattern between `start` and `end` (capped)."""
        logs = query.cloudwatch_logs
        if logs is None:
            raise QueryError(f"cloudwatch logs cannot answer a {query.kind} query")

        def count_events() -> int:
            kwargs: dict[str, Any] = {
                "logGroupName": logs.log_group,
                "filterPattern": logs.filter,
                "startTime": int(start.timestamp() * 1000),
                "endTime": int(end.timestamp() * 1000),
            }
            total = 0
            for _ in range(MAX_LOG_PAGES):
                page = self._logs.filter_log_events(**kwargs)
                total += len(page.get("events", []))
                token = page.get("nextToken")
                if not token or total >= MAX_LOG_EVENTS:
                    break
                kwargs["nextToken"] = token
            return min(total, MAX_LOG_EVENTS)

        return await self._run(count_events)

    def close(self) -> None:
        """Stop the worker threads (calls in flight finish first)."""
        self._pool.shutdown(wait=True)
