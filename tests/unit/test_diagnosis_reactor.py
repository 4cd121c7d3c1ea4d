"""The diagnosis reactor against an in-memory chat room and a fake metrics store: one card per hypothesis,
updated in place, never duplicated by retries, charts in the cards' threads, Confirm / Reject."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.causes import Cause
from bot.domain.hypotheses import Status, Verdict
from bot.domain.hypothesis_cards import Chart, HypothesisCard
from bot.domain.ports import ChatError, QueryError
from bot.outbox import OutboxWorker, RetryPolicy
from bot.runbooks import load_paths
from bot.services import alerts, hypotheses, incidents
from bot.services.diagnosis_deps import DiagnosisDeps
from bot.services.diagnostics import DiagnosisSettings
from bot.services.errors import IncidentNotOpen
from bot.services.reactors.diagnosis import DIAGNOSIS_REFRESH
from tests.alert_builders import alert
from tests.builders import chat_reactors, deps_for, sqlite_store
from tests.fakes.chat import FakeChatRoom
from tests.fakes.metrics import FakeMetrics, value

LIBRARY = tuple(load_paths([Path(__file__).resolve().parents[2] / "runbooks"]).runbooks)
FAST = DiagnosisSettings(query_timeout=0.2, deadline=1.0, scan_enabled=False)
PNG = b"\x89PNG\r\n\x1a\nfake"


class Charts:
    """A ChartRenderer fake: draws nothing, remembers what it was asked (or fails)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.drawn: list[Chart] = []

    def render(self, chart: Chart) -> bytes:
        if self.fail:
            raise RuntimeError("the chart library broke")
        self.drawn.append(chart)
        return PNG


def deploy_answers() -> dict:
    return {
        "kube_deployment_metadata_generation": value(2),
        'code=~"5.."': value(0.3),
        "http_client_requests_seconds_count": value(0.0),
    }


async def make_env(tmp_path, metrics: FakeMetrics, charts: Charts | None = None, chat: FakeChatRoom | None = None):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    deps.diagnosis = DiagnosisDeps(metrics=metrics, runbooks=LIBRARY, settings=FAST, charts=charts or Charts())
    chat = chat or FakeChatRoom()
    chat_reactors(deps, chat)
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0))
    return store, deps, chat, worker


@pytest.fixture
async def env(tmp_path):
    store, deps, chat, worker = await make_env(tmp_path, FakeMetrics(deploy_answers()))
    yield deps, chat, worker
    await store.dispose()


async def declare_from_alert(deps, worker) -> str:
    result = await alerts.ingest(deps, [alert("HighErrorRate", namespace="shop")], source="alertmanager")
    await worker.drain()
    return result.declared[0]


def cards_in(chat: FakeChatRoom, ref: str):
    room = next(c for c in chat.channels.values() if c.name.startswith("inc-"))
    return room, [m for m in room.messages if isinstance(m.card, HypothesisCard) and m.card.ref == ref]


async def test_the_room_gets_one_card_per_hypothesis_with_evidence_and_buttons(env):
    deps, chat, worker = env
    ref = await declare_from_alert(deps, worker)
    incident, kept = await hypotheses.hypotheses_of(deps, ref=ref)
    room, cards = cards_in(chat, ref)
    assert 3 <= len(cards) == len(kept) <= 5
    top = cards[0].card
    assert (top.rank, top.service, top.cause) == (1, "checkout-api", Cause.BAD_DEPLOY)
    assert top.posterior > top.prior
    shown = [e for e in top.evidence if e.verdict is Verdict.SUPPORTS]
    assert shown and all(e.observed is not None and e.threshold is not None for e in shown)
    assert [(b.action.value, b.value) for b in top.buttons] == [
        ("hypothesis-confirm", top.id),
        ("hypothesis-reject", top.id),
    ]
    assert [c.card.id for c in cards] == [h.id for h in kept]
    assert sum(h.posterior for h in kept) <= 1.0 + 1e-9
    assert incident.runbook == "error-rate-spike"
    triage = room.messages[0].card
    assert triage.runbook == "error-rate-spike", "the triage card shows the best-matching runbook"


async def test_a_rerun_updates_the_cards_in_place(env):
    deps, chat, worker = env
    ref = await declare_from_alert(deps, worker)
    _, before = cards_in(chat, ref)
    out = await hypotheses.request_diagnosis(deps, ref=ref, actor="U0ALICE", request_key="k1")
    assert out.changed
    again = await hypotheses.request_diagnosis(deps, ref=ref, actor="U0ALICE", request_key="k1")
    assert not again.changed, "a retried slash command asks once"
    await worker.drain()
    _, after = cards_in(chat, ref)
    assert [m.ts for m in after] == [m.ts for m in before]
    assert all(m.edits >= 1 for m in after)


class FailsSecondCard(FakeChatRoom):
    """Slack refuses the second hypothesis card once (a rate limit), after the first was posted."""

    def __init__(self) -> None:
        super().__init__()
        self.hypothesis_posts = 0

    async def post_card(self, channel_id, card):
        if isinstance(card, HypothesisCard):
            self.hypothesis_posts += 1
            if self.hypothesis_posts == 2:
                raise ChatError("slack rate limit", code="ratelimited", retry_after=1)
        return await super().post_card(channel_id, card)


async def test_a_retry_after_a_failed_post_never_duplicates_a_card(tmp_path):
    store, deps, chat, worker = await make_env(tmp_path, FakeMetrics(deploy_answers()), chat=FailsSecondCard())
    try:
        ref = await declare_from_alert(deps, worker)
        _, partial = cards_in(chat, ref)
        assert len(partial) == 1
        deps.clock.advance(seconds=30)
        await worker.drain()
        _, cards = cards_in(chat, ref)
        _, kept = await hypotheses.hypotheses_of(deps, ref=ref)
        assert len(cards) == len(kept)
        assert len({m.card.id for m in cards}) == len(cards), "one card per hypothesis"
    finally:
        await store.dispose()


async def test_a_failing_query_is_inconclusive_and_the_other_cards_still_post(tmp_path):
    answers = {**deploy_answers(), "kube_deployment_metadata_generation": QueryError("prometheus: 503")}
    store, deps, chat, worker = await make_env(tmp_path, FakeMetrics(answers))
    try:
        ref = await declare_from_alert(deps, worker)
        _, cards = cards_in(chat, ref)
        assert len(cards) >= 3
        failed = [e for m in cards for e in m.card.evidence if "kube_deployment_metadata_generation" in e.query]
        assert failed and {(e.verdict, e.detail) for e in failed} == {(Verdict.INCONCLUSIVE, "the query failed")}
        assert cards[0].card.cause is Cause.ERROR_SPIKE
    finally:
        await store.dispose()


async def test_each_card_gets_one_chart_in_its_thread(env):
    deps, chat, worker = env
    ref = await declare_from_alert(deps, worker)
    _, cards = cards_in(chat, ref)
    charts = deps.diagnosis.charts
    threads = {u.thread_ts for u in chat.uploads}
    assert threads and threads <= {m.ts for m in cards}
    assert all(u.content == PNG and u.filename.endswith(".png") for u in chat.uploads)
    assert all(c.threshold is not None for c in charts.drawn)
    uploads = len(chat.uploads)
    await hypotheses.request_diagnosis(deps, ref=ref, actor="U0ALICE")
    await worker.drain()
    assert len(chat.uploads) == uploads, "a re-run does not upload the charts again"


async def test_a_chart_that_fails_never_holds_the_cards_back(tmp_path):
    store, deps, chat, worker = await make_env(tmp_path, FakeMetrics(deploy_answers()), charts=Charts(fail=True))
    try:
        ref = await declare_from_alert(deps, worker)
        _, cards = cards_in(chat, ref)
        assert len(cards) >= 3 and chat.uploads == []
        counts = await store.delivery_counts()
        assert counts.get("dead", 0) == 0 and counts.get("pending", 0) == 0
    finally:
        await store.dispose()


async def test_confirm_records_the_root_cause_once_and_updates_the_card(env):
    deps, chat, worker = env
    ref = await declare_from_alert(deps, worker)
    _, cards = cards_in(chat, ref)
    top, other = cards[0].card, cards[1].card
    out = await hypotheses.judge_hypothesis(deps, hypothesis_id=top.id, confirm=True, actor="U0BOB")
    assert out.changed
    twice = await hypotheses.judge_hypothesis(deps, hypothesis_id=top.id, confirm=True, actor="U0CAROL")
    assert not twice.changed, "a second click changes nothing"
    await worker.drain()
    incident = await incidents.get(deps, ref=ref)
    assert incident.root_cause_hypothesis == top.id and "bad_deploy" in incident.root_cause
    _, events = await incidents.timeline(deps, ref=ref)
    assert [e.actor for e in events if e.kind == "hypothesis.confirmed"] == ["U0BOB"]
    _, cards = cards_in(chat, ref)
    shown = next(m.card for m in cards if m.card.id == top.id)
    assert shown.status is Status.CONFIRMED and shown.decided_by == "U0BOB"
    assert [b.action.value for b in shown.buttons] == ["hypothesis-reject"]
    await hypotheses.judge_hypothesis(deps, hypothesis_id=other.id, confirm=False, actor="U0BOB")
    await hypotheses.judge_hypothesis(deps, hypothesis_id=top.id, confirm=False, actor="U0BOB")
    incident = await incidents.get(deps, ref=ref)
    assert incident.root_cause is None, "rejecting the confirmed hypothesis takes the root cause back"


async def test_decisions_on_a_closed_incident_are_refused(env):
    deps, chat, worker = env
    ref = await declare_from_alert(deps, worker)
    _, cards = cards_in(chat, ref)
    await incidents.resolve(deps, ref=ref, actor="U0BOB")
    await incidents.set_status(deps, ref=ref, status=incidents.Status.CLOSED, actor="U0BOB")
    with pytest.raises(IncidentNotOpen):
        await hypotheses.judge_hypothesis(deps, hypothesis_id=cards[0].card.id, confirm=True, actor="U0BOB")


async def test_alert_changes_schedule_one_coalesced_rerun(env):
    deps, chat, worker = env
    ref = await declare_from_alert(deps, worker)
    incident = await incidents.get(deps, ref=ref)
    for pod in ("a", "b", "c"):
        await alerts.ingest(deps, [alert("HighErrorRate", namespace="shop", pod=pod)], source="alertmanager")
        await alerts.note_joined_alerts(deps, incident_id=incident.id)
    await worker.drain()
    keys = [t.key for t in await _timers(deps)]
    assert len([k for k in keys if k.startswith(f"{DIAGNOSIS_REFRESH}:{incident.id}:")]) == 1, keys


async def _timers(deps):
    from sqlalchemy import select

    from bot.db.tables import TimerRow

    async with deps.store.engine.connect() as conn:
        return list((await conn.execute(select(TimerRow))).all())
