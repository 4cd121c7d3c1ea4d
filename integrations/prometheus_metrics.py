"""MetricsSource on Prometheus' HTTP API with prometheus-api-client, in worker threads (the client is blocking).

Every query carries the time it is about (`time` of an instant query, `start`/`end` of a range query: the
incident's time, never "now"), a server-side `timeout` and the same client-side timeout, so a slow or dead
Prometheus costs at most the caller's budget. Failures become `QueryError` with a short reason.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from requests import RequestException, Timeout
from urllib3.util.retry import Retry

from bot.domain.metrics import Series
from bot.domain.ports import QueryError
from bot.domain.runbook import Query

T = TypeVar("T")


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def parse_result(result: Any) -> list[Series]:
    """Series from the `data.result` of an instant or range query (vector, matrix, scalar)."""
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):  # scalar: [ts, "v"]
        return [Series({}, ((float(result[0]), _number(result[1])),))]
    out = []
    for item in result or []:
        if not isinstance(item, dict):
            continue
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        if "values" in item:
            points = tuple((float(t), _number(v)) for t, v in item["values"])
        elif "value" in item:
            t, v = item["value"]
            points = ((float(t), _number(v)),)
        else:
            continue
        out.append(Series(labels, points))
    return out


class PrometheusMetrics:
    """Prometheus (`PROMETHEUS_URL`) as a MetricsSource; `close()` when done."""

    def __init__(self, url: str, *, threads: int = 8, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self._client = PrometheusConnect(
            url=self.url,
            headers=headers,
            disable_ssl=False,
            retry=Retry(total=0, raise_on_status=False),
        )
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="prometheus")

    def supports(self, kind: str) -> bool:
        """PromQL only."""
        return kind == "promql"

    async def _run(self, job: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, job)
        except PrometheusApiClientException as exc:
            raise QueryError(f"prometheus: {str(exc)[:300]}") from None
        except Timeout:
            # The HTTP timeout is the query's time limit, as the caller's own timer is: whichever fires first,
            # the query timed out (not "failed").
            raise TimeoutError("prometheus query timed out") from None
        except RequestException as exc:
            raise QueryError(f"prometheus unreachable: {type(exc).__name__}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise QueryError(f"prometheus answered something unexpected: {exc}") from None

    async def query(self, query: Query, *, at: datetime, time_limit: float) -> list[Series]:
        """An instant query evaluated at `at`."""
        promql = self._promql(query)
        params = {"time": f"{at.timestamp():.3f}", "timeout": f"{max(1, int(time_limit * 1000))}ms"}
        result = await self._run(lambda: self._client.custom_query(promql, params=params, timeout=time_limit))
        return parse_result(result)

    async def query_range(
        self, query: Query, *, start: datetime, end: datetime, step: float, time_limit: float
    ) -> list[Series]:
        """A range query from `start` to `end`, one point every `step` seconds."""
        promql = self._promql(query)
        params = {"timeout": f"{max(1, int(time_limit * 1000))}ms"}
        result = await self._run(
            lambda: self._client.custom_query_range(
                promql, start_time=start, end_time=end, step=f"{step:g}s", params=params, timeout=time_limit
            )
        )
        return parse_result(result)

    @staticmethod
    def _promql(query: Query) -> str:
        if query.promql is None:
            raise QueryError(f"prometheus cannot answer a {query.kind} query")
        return query.promql

    def close(self) -> None:
        """Stop the worker threads (queries in flight finish first)."""
        self._pool.shutdown(wait=True)
