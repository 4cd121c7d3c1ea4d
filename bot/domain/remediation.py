"""Remediation actions (pure): a runbook step proposed for an incident, and its life from proposal to its end.

    proposed ──approve──> approved ──start──> running ──> executed ──verify──> verified
        │                                        │            └─verification fails─> rolled_back | rollback_failed
        ├─reject / expire / supersede             └─> failed (the command failed, or the outcome is unknown)
        └─(refused: a value it would run with is not allowed; it can never be approved)

Every transition returns the log entries it makes (the timeline and the hash-chained audit); a decision is
taken only from `proposed`, so a second click, a click on an expired or superseded card, or two approvals at
once change nothing more (the store also makes the transition a conditional update). Execution is recorded
as started before the executor is called: a crash after that never runs it again (at most once is the safe
side for a change to production); the action ends `failed` with an unknown outcome and people are told.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.events import EventKind, NewEvent
from bot.domain.policy import Decision
from bot.domain.runbook import Risk

ID_PREFIX = "a-"
WARROOM = "warroom"


class ActionStatus(StrEnum):
    """Where a remediation action stands (stored)."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    RUNNING = "running"
    EXECUTED = "executed"
    VERIFIED = "verified"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    REFUSED = "refused"
    ROLLING_BACK = "rolling_back"

    @property
    def decided(self) -> bool:
        """Whether a decision was taken already (no click can change it any more)."""
        return self is not ActionStatus.PROPOSED


def action_id(ref: str, basis: str, step: str, argv: tuple[str, ...]) -> str:
    """A stable id of "this step, for this reason, with these arguments" in one incident: a re-delivered
    proposal finds its action again; a proposal on another basis gets a new id (and supersedes the old one)."""
    digest = hashlib.sha256("\x00".join((ref.upper(), basis, step, *argv)).encode()).hexdigest()
    return ID_PREFIX + digest[:12]


def output_digest(output: str) -> str:
    """The SHA-256 of an execution's (redacted) output: the log keeps the digest, the thread shows the text."""
    return hashlib.sha256(output.encode("utf-8", errors="replace")).hexdigest()


@dataclass(slots=True)
class RemediationAction:
    """One proposed remediation of an incident, with everything its card and its execution need."""

    id: str
    incident_id: int
    runbook: str
    step: str
    title: str
    risk: Risk
    executor: str
    argv: tuple[str, ...]  # the template (`{{placeholders}}`) ...
    values: dict[str, str]  # ... and the values it is rendered with, checked again right before it runs
    rollback: tuple[str, ...] | None
    verify: dict[str, Any] | None  # the rendered Verification (query + expect) as JSON
    hypothesis: str | None
    rationale: str
    impact: str
    blast_radius: str
    requested_by: str
    decision: Decision
    proposed_at: datetime
    expires_at: datetime
    status: ActionStatus = ActionStatus.PROPOSED
    decided_by: str | None = None
    decided_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    output: str = ""
    rollback_output: str = ""
    refusal: str | None = None
    verified: bool | None = None

    def payload(self, **more: Any) -> dict[str, Any]:
        """What every log entry about the action carries."""
        return {"action": self.id, "step": self.step, "runbook": self.runbook, "risk": self.risk.value, **more}

    def _event(self, kind: EventKind, actor: str, at: datetime, text: str, **more: Any) -> NewEvent:
        return NewEvent(kind=kind, actor=actor, at=at, text=text, payload=self.payload(**more),
                        dedupe_key=f"{kind.value}:{self.id}")  # fmt: skip

    def proposed(self) -> list[NewEvent]:
        """The entry of a new proposal (refused at once when its values are not allowed)."""
        if self.status is ActionStatus.REFUSED:
            text = f"could not propose {self.title}: {self.refusal}"
            return [self._event(EventKind.REMEDIATION_REFUSED, WARROOM, self.proposed_at, text, rule="unsafe_value",
                                reason=self.refusal)]  # fmt: skip
        text = f"proposed {self.title} ({self.risk.value} risk, {self.decision.value})"
        return [self._event(EventKind.REMEDIATION_PROPOSED, self.requested_by, self.proposed_at, text,
                            decision=self.decision.value, hypothesis=self.hypothesis)]  # fmt: skip

    def approve(self, *, actor: str, at: datetime, auto: bool = False) -> list[NewEvent]:
        """Approved (by a person, or automatically by policy): the execution is queued."""
        self._decide(ActionStatus.APPROVED, actor, at)
        how = "ran automatically (policy)" if auto else "approved"
        return [self._event(EventKind.REMEDIATION_APPROVED, actor, at, f"{how}: {self.title}", auto=auto)]

    def reject(self, *, actor: str, at: datetime) -> list[NewEvent]:
        """Rejected by a person."""
        self._decide(ActionStatus.REJECTED, actor, at)
        return [self._event(EventKind.REMEDIATION_REJECTED, actor, at, f"rejected {self.title}")]

    def expire(self, *, at: datetime) -> list[NewEvent]:
        """Nobody decided in time."""
        self._decide(ActionStatus.EXPIRED, WARROOM, at)
        return [self._event(EventKind.REMEDIATION_EXPIRED, WARROOM, at, f"approval of {self.title} expired")]

    def supersede(self, *, by: str, at: datetime) -> list[NewEvent]:
        """A newer proposal replaces this one."""
        self._decide(ActionStatus.SUPERSEDED, WARROOM, at)
        text = f"{self.title} was superseded by a newer proposal"
        return [self._event(EventKind.REMEDIATION_SUPERSEDED, WARROOM, at, text, by=by)]

    def _decide(self, status: ActionStatus, actor: str, at: datetime) -> None:
        if self.status is not ActionStatus.PROPOSED:
            raise ValueError(f"action {self.id} is {self.status.value}, not proposed")
        self.status, self.decided_by, self.decided_at = status, actor, at

    def start(self, *, at: datetime) -> list[NewEvent]:
        """Execution starts (recorded before the executor is called)."""
        if self.status is not ActionStatus.APPROVED:
            raise ValueError(f"action {self.id} is {self.status.value}, not approved")
        self.status, self.started_at = ActionStatus.RUNNING, at
        argv = " ".join(self.argv)
        return [self._event(EventKind.REMEDIATION_STARTED, WARROOM, at, f"started {self.title}", argv=argv,
                            executor=self.executor)]  # fmt: skip

    def finished(
        self, *, ok: bool, exit_code: int | None, output: str, at: datetime, reason: str = ""
    ) -> list[NewEvent]:
        """The executor returned (or failed): `executed` awaits verification, `failed` ends it."""
        self.status = ActionStatus.EXECUTED if ok else ActionStatus.FAILED
        self.exit_code, self.output, self.finished_at = exit_code, output, at
        verb = "ran" if ok else "failed to run"
        text = f"{verb} {self.title}" + (f" (exit {exit_code})" if exit_code is not None else "")
        if reason:
            text += f": {reason}"
        return [self._event(EventKind.REMEDIATION_EXECUTED, WARROOM, at, text, ok=ok, exit_code=exit_code,
                            output_digest=output_digest(output), reason=reason or None)]  # fmt: skip

    def checked(self, *, passed: bool | None, observed: float | None, at: datetime, detail: str) -> list[NewEvent]:
        """The verification query's answer (None: it could not tell). A failed check means rolling back, recorded
        before the rollback runs (at most once, like the action itself)."""
        self.verified = passed
        if passed is False:
            self.status = ActionStatus.ROLLING_BACK
        else:
            self.status = ActionStatus.VERIFIED if passed else ActionStatus.EXECUTED
            self.finished_at = at
        verdict = {True: "passed", False: "failed", None: "was inconclusive"}[passed]
        return [self._event(EventKind.REMEDIATION_VERIFIED, WARROOM, at, f"verification of {self.title} {verdict}: "
                            f"{detail}", passed=passed, observed=observed)]  # fmt: skip

    def rolled_back(
        self, *, ok: bool, exit_code: int | None, output: str, at: datetime, reason: str = ""
    ) -> list[NewEvent]:
        """The rollback ran (or there was none to run: `ok` False)."""
        self.status = ActionStatus.ROLLED_BACK if ok else ActionStatus.ROLLBACK_FAILED
        self.finished_at, self.rollback_output = at, output
        verb = "rolled back" if ok else "could not roll back"
        text = f"{verb} {self.title}" + (f": {reason}" if reason else "")
        return [self._event(EventKind.REMEDIATION_ROLLED_BACK, WARROOM, at, text, ok=ok, exit_code=exit_code,
                            output_digest=output_digest(output), reason=reason or None)]  # fmt: skip


def refused_event(action: RemediationAction, *, actor: str, at: datetime, rule: str, reason: str) -> NewEvent:
    """The audit entry of a refused attempt (approve, reject or run): who tried, which rule said no. Never
    deduplicated: every attempt is recorded."""
    text = f"refused to let {actor} act on {action.title}: {reason}"
    return NewEvent(kind=EventKind.REMEDIATION_REFUSED, actor=actor, at=at, text=text,
                    payload=action.payload(rule=rule, reason=reason))  # fmt: skip
