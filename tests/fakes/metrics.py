"""An in-memory MetricsSource / LogSource: answers by substring of the query, records what it was asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.metrics import Series
from bot.domain.ports import QueryError
from bot.domain.runbook import Query

Answer = list[Series] | Callable[[], list[Series]] | Exception | None  # None: hang until cancelled


@dataclass
class FakeMetrics:
    """`answers` maps a substring of the query text to what to answer (first match wins); else no data."""

    answers: dict[str, Answer] = field(default_factory=dict)
    kinds: frozenset[str] = frozenset({"promql"})
    asked: list[tuple[str, str, float]] = field(default_factory=list)  # (kind of call, query text, time)
    log_counts: dict[str, int] = field(default_factory=dict)

    def supports(self, kind: str) -> bool:
        return kind in self.kinds

    async def _answer(self, text: str) -> list[Series]:
        for key, answer in self.answers.items():
            if key in text:
                if answer is None:
                    await asyncio.Event().wait()  # a store that never answers
                if isinstance(answer, Exception):
                    raise answer
                return answer() if callable(answer) else list(answer)
        return []

    async def query(self, query: Query, *, at: datetime, time_limit: float) -> list[Series]:
        text = query.promql or repr(query.cloudwatch_metric)
        self.asked.append(("instant", text, at.timestamp()))
        return await self._answer(text)

    async def query_range(
        self, query: Query, *, start: datetime, end: datetime, step: float, time_limit: float
    ) -> list[Series]:
        text = query.promql or ""
        self.asked.append(("range", text, end.timestamp()))
        return await self._answer(text)

    async def count(self, query: Query, *, start: datetime, end: datetime, time_limit: float) -> int:
        assert query.cloudwatch_logs is not None
        self.asked.append(("logs", query.cloudwatch_logs.filter, end.timestamp()))
        if query.cloudwatch_logs.log_group not in self.log_counts:
            raise QueryError("ResourceNotFoundException")
        return self.log_counts[query.cloudwatch_logs.log_group]


def value(v: float, at: float = 0.0, **labels: str) -> list[Series]:
    """An instant-query answer with one series."""
    return [Series(labels, ((at, v),))]
