"""A remediation test bed: a store, the war room and remediation reactors on a fake chat room, the scheduler
with the remediation timers, a fake executor that records what ran, fake metrics for the verification, and a
runbook whose steps are LOW, MEDIUM and HIGH risk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.bootstrap.remediation import register_remediation_timers
from bot.clock import ManualClock
from bot.domain.approval_cards import ApprovalCard
from bot.domain.authority import Approvers
from bot.domain.causes import Cause
from bot.domain.execution import ExecutorRegistry
from bot.domain.hypotheses import Candidate, Evidence, Verdict, score
from bot.domain.remediation import RemediationAction
from bot.domain.runbook import Runbook
from bot.outbox import OutboxWorker, RetryPolicy
from bot.scheduler import Scheduler
from bot.services import alerts, hypotheses, incidents, remediation
from bot.services.alerts import CARD_REFRESH
from bot.services.authority_deps import AuthorityDeps
from bot.services.deps import Deps
from bot.services.diagnosis_deps import DiagnosisDeps
from bot.services.diagnostics import DiagnosisReport
from bot.services.reactors import WarRoomReactor
from bot.services.reactors.remediation import RemediationReactor
from bot.services.remediation_deps import RemediationDeps
from integrations.executors.dry_run import DryRunExecutor
from tests.alert_builders import alert
from tests.fakes.chat import FakeChatRoom
from tests.fakes.executor import FakeExecutor
from tests.fakes.metrics import FakeMetrics, value

COMMANDER, APPROVER, OTHER, STRANGER = "U0CMDR", "U0APPROVER", "U0OTHER", "U0STRANGER"
ERRORS = 'errors{service="'


def step(risk: str, *, rollback: bool = True, verify: bool = True, n: int = 0) -> dict[str, object]:
    """A kubectl step of this risk on the incident's deployment and namespace (`n`: the n-th such step)."""
    out: dict[str, object] = {
        "id": f"{risk}-step" + (f"-{n}" if n else ""), "title": f"Restart {{{{deployment}}}} ({risk})", "risk": risk, "executor": "kubectl",
        "argv": ["kubectl", "rollout", "restart", "deployment/{{deployment}}", "-n", "{{namespace}}"],
    }  # fmt: skip
    if rollback:
        out["rollback"] = ["kubectl", "rollout", "undo", "deployment/{{deployment}}", "-n", "{{namespace}}"]
    if verify:
        out["verify"] = {"query": {"promql": ERRORS + '{{service}}"}'}, "expect": {"below": 0.01}}
    return out


def runbook(*steps: dict[str, object], rid: str = "fix-checkout") -> Runbook:
    """A runbook with these remediation steps."""
    return Runbook.model_validate({
        "id": rid, "title": "Fix checkout", "match": {"alertnames": ["HighErrorRate"]},
        "hypotheses": [{"id": "bad-deploy", "title": "bad deploy", "cause": "bad_deploy", "prior": 0.3,
                        "query": {"promql": "up"}, "supports": {"above": 0}}],
        "remediation": list(steps),
    })  # fmt: skip


@dataclass
class Env:
    """Everything a remediation test drives."""

    deps: Deps
    chat: FakeChatRoom
    outbox: OutboxWorker
    scheduler: Scheduler
    executor: FakeExecutor
    metrics: FakeMetrics
    clock: ManualClock
    refs: list[str] = field(default_factory=list)

    async def settle(self) -> None:
        """Deliver every event and fire every timer due now, until nothing is left."""
        for _ in range(50):
            n = await self.outbox.drain() + await self.scheduler.run_due()
            if n == 0:
                return
        raise AssertionError("the outbox and the timers never settled")

    async def declare(self, *, severity: str = "error", **labels: str) -> str:
        """An incident from one alert of a new service (SEV2 by default; `severity="critical",
        customer_facing="true"`: SEV1)."""
        service = labels.pop("service", f"checkout-{len(self.refs) + 1}")
        result = await alerts.ingest(self.deps, [alert("HighErrorRate", service=service, severity=severity,
                                                       **labels)], source="alertmanager")  # fmt: skip
        await self.settle()
        ref = result.declared[0]
        self.refs.append(ref)
        return ref

    async def diagnose(self, ref: str, *, runbook_id: str = "fix-checkout") -> str:
        """Keep a diagnosis whose leading hypothesis points at the runbook; its id."""
        inc = await incidents.get(self.deps, ref=ref)
        svc = inc.services[0]
        ev = Evidence("up", Verdict.SUPPORTS, 1.0, 0.5, 4.0, "up 1 > 0.5")
        d = score([Candidate("A bad deploy", svc, Cause.BAD_DEPLOY, 0.5, (ev,), runbook=runbook_id),
                   Candidate("A traffic surge", svc, Cause.TRAFFIC_SURGE, 0.2, ())])  # fmt: skip
        report = DiagnosisReport(d, (), svc, self.clock.now(), None, ())
        kept = await hypotheses.keep_diagnosis(self.deps, incident_id=inc.id, report=report)
        assert kept is not None
        return kept.hypotheses[0].id

    async def confirm(self, ref: str, actor: str = OTHER) -> str:
        """Diagnose, then `actor` confirms the leading hypothesis (which proposes its runbook's steps)."""
        hid = await self.diagnose(ref)
        await hypotheses.judge_hypothesis(self.deps, hypothesis_id=hid, confirm=True, actor=actor)
        await self.settle()
        return hid

    async def take_command(self, ref: str, user: str = COMMANDER) -> None:
        """`user` becomes the commander."""
        await incidents.take_lead(self.deps, ref=ref, actor=user)
        await self.settle()

    async def actions(self, ref: str) -> list[RemediationAction]:
        """The incident's actions, oldest first."""
        inc = await incidents.get(self.deps, ref=ref)
        return await remediation.actions_of(self.deps, incident_id=inc.id)

    async def action(self, ref: str, risk: str) -> RemediationAction:
        """The newest action of this risk."""
        return [a for a in await self.actions(ref) if a.risk.value == risk][-1]

    def cards(self) -> dict[str, ApprovalCard]:
        """Every approval card in the war rooms, by action id."""
        out = {}
        for ch in self.chat.channels.values():
            for m in ch.messages:
                if isinstance(m.card, ApprovalCard):
                    out[m.card.id] = m.card
        return out

    def thread(self, action_id: str) -> list[str]:
        """The texts posted in an action card's thread."""
        for ch in self.chat.channels.values():
            ts = next((m.ts for m in ch.messages if isinstance(m.card, ApprovalCard) and m.card.id == action_id), None)
            if ts is not None:
                return [m.text for m in ch.messages if m.thread_ts == ts]
        return []

    async def kinds(self, ref: str) -> list[str]:
        """The kinds of the incident's log entries, in order."""
        _, events = await incidents.timeline(self.deps, ref=ref)
        return [e.kind for e in events]

    def healthy(self, v: float = 0.001) -> None:
        """The verification query answers `v` (below 0.01 passes)."""
        self.metrics.answers[ERRORS] = value(v)


async def make_env(store: object, steps: Iterable[dict[str, object]], *, approvers: Iterable[str] = (APPROVER,),
                   executor: FakeExecutor | None = None) -> Env:  # fmt: skip
    """The test bed over a store with the schema."""
    from bot.db.store import Store

    assert isinstance(store, Store)
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    metrics = FakeMetrics({ERRORS: value(0.001)})
    executor = executor or FakeExecutor("kubectl")
    deps = Deps(store=store, clock=clock)
    deps.diagnosis = DiagnosisDeps(metrics=metrics, runbooks=(runbook(*steps),))
    deps.remediation = RemediationDeps(executors=ExecutorRegistry.of([DryRunExecutor(), executor]))
    deps.authority = AuthorityDeps(approvers=Approvers(users=frozenset(approvers)))
    chat = FakeChatRoom()
    war_room = store.reactors.add(WarRoomReactor(deps, chat))
    store.reactors.add(RemediationReactor(deps, chat))
    outbox = OutboxWorker(store, clock=clock, policy=RetryPolicy(base_delay=1, jitter=0))
    scheduler = Scheduler(store, clock=clock)
    register_remediation_timers(scheduler, deps)
    scheduler.register(CARD_REFRESH, lambda timer: war_room.refresh(timer.incident_id or 0))
    return Env(deps, chat, outbox, scheduler, executor, metrics, clock)
