"""The `diagnosis` section of the rules file: how incidents are diagnosed (the hypothesis cards).

Service names here are the values of the alert's service label; a workload is a Kubernetes deployment /
statefulset name as the cAdvisor and kube-state-metrics series carry it in `pod`.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.fields import LabelName

_NAME = re.compile(r"^[A-Za-z0-9_.:/@-]{1,253}\Z")
_DURATION = re.compile(r"^[1-9][0-9]{0,5}[smhdw]\Z")


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{value[:60]!r} is not a service or workload name (letters, digits, _ . : / @ -)")
    return value


class DiagnosisConfig(BaseModel):
    """How incidents are diagnosed: the service map, the windows, the query budget, the re-run window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True  # false: no hypothesis cards even with PROMETHEUS_URL or AWS configured
    service_labels: list[LabelName] = Field(default_factory=lambda: ["service", "job"], min_length=1, max_length=5)
    dependencies: dict[str, list[str]] = Field(default_factory=dict)  # service -> what it depends on
    deployments: dict[str, str] = Field(default_factory=dict)  # service -> its deployment (default: same name)
    aliases: dict[str, str] = Field(default_factory=dict)  # workload -> the service it is (for the scan)
    window: str = "5m"
    lookback: str = "30m"
    baseline: str = "1h"
    query_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    deadline_seconds: float = Field(default=5.0, gt=0, le=300)
    max_queries: int = Field(default=12, ge=1, le=50)
    refresh_seconds: float = Field(default=60.0, ge=1, le=3600)
    charts: bool = True
    runbooks: Path | None = None  # the runbook library (default: ./runbooks, else the one shipped)

    @field_validator("dependencies")
    @classmethod
    def _check_dependencies(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        """Names that can go into a query."""
        return {_name(k): [_name(v) for v in deps] for k, deps in value.items()}

    @field_validator("deployments", "aliases")
    @classmethod
    def _check_names(cls, value: dict[str, str]) -> dict[str, str]:
        """Names that can go into a query."""
        return {_name(k): _name(v) for k, v in value.items()}

    @field_validator("window", "lookback", "baseline")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        """A Prometheus duration like 5m."""
        if not _DURATION.match(value):
            raise ValueError(f"{value!r} is not a duration like 5m, 30m or 1h")
        return value
