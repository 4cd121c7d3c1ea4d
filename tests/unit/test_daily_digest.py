"""The daily digest: every figure against the hand-computed values of a scripted set of incidents, the report day
in its time zone (across a day boundary), once per day across retries, restarts and replicas, posted to Slack
(with the chart in its thread) and to Discord, redacted and escaped."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.clock import ManualClock
from bot.db.digest_queries import DigestQueries
from bot.domain.digest import DigestChart, chart_of, day_window, duration, report_day
from bot.domain.digest_notices import digest_notices, digest_text
from bot.domain.incident import Severity
from bot.domain.ports import ChatError
from bot.recurring import Recurrence
from bot.redact import RedactingChatRoom, Redactor
from bot.scheduler import Scheduler
from bot.services import incidents
from bot.services.reports import DIGEST_KEY, DIGEST_TIMER, DailyDigest, DigestSchedule
from tests.builders import deps_for, sqlite_store
from tests.digest_scenario import DAY, END, EXPECTED_FIGURES, START, play
from tests.fakes.chat import FakeChatRoom, readable


class FakeCharts:
    def __init__(self) -> None:
        self.drawn: list[DigestChart] = []

    def render(self, chart: DigestChart) -> bytes:
        self.drawn.append(chart)
        return b"\x89PNG fake"


class FakeBroadcaster:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fail: list[ChatError] = []

    async def broadcast(self, notices, *, headline="", ping=False, files=()):
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append({"notices": list(notices), "headline": headline, "files": list(files)})


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield deps_for(store, ManualClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC)))
    await store.dispose()


def digest_of(deps, *, tz="UTC", at=time(23, 0), chat=None, discord=None, charts=None) -> DailyDigest:
    schedule = DigestSchedule(at=at, tz=tz)
    return DailyDigest(deps, DigestQueries(deps.store), schedule=schedule, chat=chat, discord=discord, charts=charts)


async def test_every_figure_matches_the_hand_computed_values(deps):
    refs = await play(deps, deps.clock)
    report = await digest_of(deps).build(DAY)
    assert (report.start, report.end) == (START, END)
    t = report.today
    assert t.opened == {Severity.SEV1: 1, Severity.SEV2: 1, Severity.SEV3: 1}
    assert t.resolved == {Severity.SEV1: 1, Severity.SEV2: 2}
    assert (t.acked, t.ack_seconds, t.resolve_seconds) == (3, 18 * 60, 270 * 60)
    assert t.breaches == {"ack": 1, "resolve": 1}
    p = report.previous
    assert (p.opened_total, p.resolved_total, p.mtta, p.mttr) == (2, 1, 25 * 60, 60 * 60)
    assert [d.opened_total for d in report.week] == [0, 0, 1, 0, 1, 0, 2]  # 11-16 .. 11-22
    lines = {line.split(":")[0]: line for line in digest_text(report).splitlines()}
    for label, (value, trend) in EXPECTED_FIGURES.items():
        assert lines[label] == f"{label}: {value}  [{trend}]"
    d = report.data
    assert d.open_total == 2
    assert [(o.ref, o.severity, o.owner) for o in d.open_incidents] == [
        (refs["H"], Severity.SEV1, None), (refs["C"], Severity.SEV3, "U0CAROL"),
    ]  # fmt: skip
    text = digest_text(report)
    assert f"{refs['H']} SEV1 · incident H <!channel> · open 3d 13h · unassigned" in text
    assert f"{refs['C']} SEV3 · incident C <!channel> · open 3h 00m · @U0CAROL" in text
    assert [(n.alertname, n.received, n.alerts) for n in d.noisy] == [("CPUHigh", 8, 2), ("DiskFull", 4, 1),
                                                                      ("LowPrio", 1, 1)]  # fmt: skip
    assert (d.alerts_received, d.duplicates, d.silenced) == (13, 9, 1)
    assert "13 alert notifications, 9 suppressed as duplicates, 1 silenced" in text
    assert (d.review_total, d.review) == (1, ("LowPrio",))
    assert d.overdue_total == 1 and [(i.ref, i.item, i.owner) for i in d.overdue] == [(refs["A"], "ai-1", "U0DAVE")]
    assert f"{refs['A']} add a <@U0X> canary · due 2026-11-22 · @U0DAVE" in text


async def test_the_chart_holds_14_days_of_incidents_by_severity_and_the_mttr_trend(deps):
    await play(deps, deps.clock)
    chart = chart_of(await digest_of(deps).build(DAY))
    assert chart.days[0] == date(2026, 11, 10) and chart.days[-1] == DAY and len(chart.days) == 14
    assert chart.opened[Severity.SEV2][-2:] == (1, 1) and chart.opened[Severity.SEV4][8] == 1  # D, A; F on 11-18
    assert sum(sum(v) for v in chart.opened.values()) == 7  # Z is older, G belongs to the 24th
    assert chart.mttr_minutes[-1] == 90 and chart.mttr_minutes[-2] == 60 and chart.mttr_minutes[0] is None


def test_durations_and_the_report_day_read_in_its_zone():
    assert [duration(s) for s in (None, 0, 59.6, 61, 3599, 3600 + 5 * 60, 86400 * 3 + 13 * 3600)] == [
        "—", "0s", "1m 00s", "1m 01s", "59m 59s", "1h 05m", "3d 13h",
    ]  # fmt: skip
    # 23:00 in Tokyo is 14:00 UTC: 15:30 UTC on the 23rd is already the Tokyo report day of the 24th.
    start, end = day_window(date(2026, 11, 24), at=time(23, 0), tz="Asia/Tokyo")
    assert (start, end) == (datetime(2026, 11, 23, 14, 0, tzinfo=UTC), datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    assert report_day(datetime(2026, 11, 23, 14, 0, tzinfo=UTC), tz="Asia/Tokyo") == date(2026, 11, 23)
    # A report day across the switch to summer time is 23 hours long.
    start, end = day_window(date(2027, 3, 28), at=time(23, 0), tz="Europe/Paris")
    assert end - start == timedelta(hours=23)


async def _scheduler(deps, digest: DailyDigest, name: str, tz: str) -> Scheduler:
    sched = Scheduler(deps.store, clock=deps.clock, worker_id=name, max_attempts=3, retry_delay=timedelta(minutes=1))

    async def fire(timer) -> None:
        await digest.fired(due_at=timer.due_at, attempts=timer.attempts)

    sched.every(DIGEST_TIMER, DIGEST_KEY, Recurrence("0 23 * * *", tz), fire)
    await sched.ensure_recurring()
    return sched


async def test_across_a_time_zone_day_boundary_once_across_restarts_and_replicas(deps):
    """Digest at 23:00 Asia/Tokyo (14:00 UTC). An incident at 13:30 UTC on the 23rd is in the Tokyo day of the 23rd;
    one at 15:30 UTC the same UTC day is in the Tokyo day of the 24th."""
    clock, tz = deps.clock, "Asia/Tokyo"
    clock.advance(seconds=(datetime(2026, 11, 23, 13, 0, tzinfo=UTC) - clock.now()).total_seconds())
    early = (await incidents.declare(deps, title="before", severity=Severity.SEV2, actor="U0A")).incident.ref
    chat, discord = FakeChatRoom(), FakeBroadcaster()
    replicas = [digest_of(deps, tz=tz, chat=chat, discord=discord, charts=FakeCharts()) for _ in range(2)]
    a, b = [await _scheduler(deps, d, f"p{i}", tz) for i, d in enumerate(replicas)]
    clock.advance(minutes=30)  # 13:30 UTC = 22:30 in Tokyo: still the Tokyo day of the 23rd
    late = (await incidents.declare(deps, title="late", severity=Severity.SEV3, actor="U0A")).incident.ref
    clock.advance(minutes=59)  # 14:29 UTC (still the 23rd in UTC) = 23:29 in Tokyo: the Tokyo day of the 24th
    after = (await incidents.declare(deps, title="next day", severity=Severity.SEV3, actor="U0A")).incident.ref
    counts = await asyncio.gather(a.run_due(), b.run_due())
    assert sum(counts) == 1, "one replica fires the occurrence"
    digests = [m for m in chat.by_name("incidents").messages if m.card is not None]
    assert len(digests) == 1 and digests[0].card.day == date(2026, 11, 23)
    first = digests[0].card
    assert first.today.opened_total == 2 and {o.ref for o in first.data.open_incidents} == {early, late}
    assert len(discord.sent) == 1 and len(chat.uploads) == 1
    restarted = await _scheduler(deps, digest_of(deps, tz=tz, chat=chat, discord=discord), "p3", tz)
    assert await restarted.run_due() == 0, "a restart finds the day done"
    clock.advance(days=1)
    assert await restarted.run_due() == 1
    digests = [m.card for m in chat.by_name("incidents").messages if m.card is not None]
    assert [d.day for d in digests] == [date(2026, 11, 23), date(2026, 11, 24)]
    assert digests[1].today.opened_total == 1 and {o.ref for o in digests[1].data.open_incidents} == {
        early, late, after,
    }  # fmt: skip


async def test_a_retried_occurrence_posts_nothing_twice(deps):
    await play(deps, deps.clock)
    chat, discord = FakeChatRoom(), FakeBroadcaster()
    discord.fail = [ChatError("Discord is down", code="server_error")]
    digest = digest_of(deps, chat=chat, discord=discord, charts=FakeCharts())
    with pytest.raises(ChatError):
        await digest.fired(due_at=END, attempts=1)  # Slack and the chart went out, Discord failed
    out = await digest.fired(due_at=END, attempts=2)  # the retry: Discord only
    assert (out.chart, out.discord) == (False, True)
    assert await digest.fired(due_at=END, attempts=3) == type(out)(out.slack_ts, False, False)  # a re-claim
    channel = chat.by_name("incidents")
    assert len([m for m in channel.messages if m.card is not None]) == 1
    assert len(chat.uploads) == 1 and chat.uploads[0].thread_ts == out.slack_ts
    assert chat.uploads[0].filename == "digest-2026-11-23.png" and len(discord.sent) == 1
    sent = discord.sent[0]
    assert [f.filename for f in sent["files"]] == ["digest-2026-11-23.png"]
    assert sent["notices"][0].image == "digest-2026-11-23.png"


async def test_what_leaves_is_redacted_and_data_stays_data(deps):
    await incidents.declare(deps, title="db password=hunter2 <!channel> @everyone", severity=Severity.SEV2,
                            actor="U0A")  # fmt: skip
    deps.clock.advance(hours=1)
    chat = FakeChatRoom()
    redacting = RedactingChatRoom(chat, Redactor())
    digest = digest_of(deps, chat=redacting, at=time(23, 0))
    report = await digest.build(report_day(deps.clock.now(), tz="UTC"))
    await digest.post(report)
    (msg,) = [m for m in chat.by_name("incidents").messages if m.card is not None]
    shown = digest_text(msg.card)
    assert "hunter2" not in shown and "<!channel>" in shown  # redacted; the title stays data (escaped by renderers)
    notices = digest_notices(Redactor().card(report))
    assert all("hunter2" not in readable(f.value) for n in notices for f in n.fields)
