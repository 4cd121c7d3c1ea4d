"""The JSON of `GET /api/v1/incidents/{ref}/hypotheses` as pydantic models (DESIGN.md 5; the OpenAPI schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.domain.causes import Cause


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HypothesisEvidence(_Answer):
    """One observation and what it says about its hypothesis."""

    query: str = Field(description="the query that was run (PromQL, CloudWatch), or the scan signal")
    verdict: Literal["supports", "contradicts", "inconclusive"]
    observed: float | None = Field(description="the value observed; null when the query gave nothing")
    threshold: float | None = Field(description="the value it was compared with")
    detail: str = Field(description="the observation in one sentence (e.g. `timed out`)")
    source: str = Field(description="promql, cloudwatch_metric, cloudwatch_logs or scan")


class Hypothesis(_Answer):
    """A hypothesis about what broke: the component it blames (`service`), why (`cause`), how likely."""

    id: str = Field(description="also the value of its card's Confirm / Reject buttons")
    title: str
    runbook: str | None = Field(description="the runbook it comes from (null: golden signals or the scan)")
    prior: float = Field(ge=0, le=1)
    posterior: float = Field(ge=0, le=1)
    status: Literal["open", "confirmed", "rejected"]
    service: str | None = Field(description="the component it blames (may differ from the alerting service)")
    cause: Cause
    evidence: list[HypothesisEvidence]
    rank: int | None = Field(ge=1, description="its rank in the latest diagnosis; null when it dropped out")
    origin: Literal["runbook", "golden", "scan"]
    decided_by: str | None
    decided_at: AwareDatetime | None
    scored_at: AwareDatetime


class HypothesisList(_Answer):
    """`GET /api/v1/incidents/{ref}/hypotheses`: highest posterior first."""

    hypotheses: list[Hypothesis]
    root_cause: str | None = Field(description="the id of the confirmed hypothesis that is the root cause, if any")
