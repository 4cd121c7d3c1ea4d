"""Two real `warroom serve` processes on the real PostgreSQL, Slack at its (scaled) rate tiers:
exactly one room, card, pin and announcement per incident under takeovers and a kill -9."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.multiprocess import (
    Sent,
    exactly_once_problems,
    group_bodies,
    query,
    send,
    slack_tally,
    start_bots,
    wait_all_delivered,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
# Slack's tiers sped up 4 times in the emulator and in the bots' pacers: channel creation 80/min with a
# burst of 80, one message a second per channel times 4 (the 100 announcements queue in #incidents).
RATE_SCALE = 4


@pytest.fixture
def paced(slack_workspace):
    slack_workspace.rate_limit_scale = RATE_SCALE
    return slack_workspace


async def test_paced_storm_on_two_processes_gives_one_room_card_pin_and_announcement_each(
    pg_url, paced, slack_emulator, tmp_path
):
    groups = 100
    bots = start_bots(
        2, pg_url, slack_emulator.api_url, tmp_path,
        WARROOM_SLACK_RATE_SCALE=RATE_SCALE,
        WARROOM_OUTBOX_LEASE_SECONDS=1,  # short: deliveries wait in the rate limiter far longer than this
        WARROOM_HEARTBEAT_SECONDS=0.3,
        WARROOM_OUTBOX_MAX_ATTEMPTS=50,
    )  # fmt: skip
    try:
        await asyncio.gather(*(b.wait_ready() for b in bots))
        sent = Sent()
        await asyncio.wait_for(send(group_bodies(groups, per_group=4, per_body=2), bots, sent), timeout=120)
        assert not sent.refused and len(sent.acknowledged) == groups * 4
        await wait_all_delivered(pg_url, groups, timeout=180)
        await asyncio.sleep(0.5)  # a late duplicate would surface now
        tally = slack_tally(paced)
        refs = {r for (r,) in await query(pg_url, "SELECT ref FROM incidents")}
        assert len(refs) == groups
        assert exactly_once_problems(tally, refs) == []
        takeovers = await query(pg_url, "SELECT count(*) FROM deliveries WHERE attempts > 1")
        deleted = len(paced.calls_to("chat.delete"))
        print(
            f"paced storm: {groups} incidents; deliveries retried or taken over: {takeovers[0][0]};"
            f" duplicate posts deleted: {deleted}"
        )
    finally:
        for b in bots:
            b.stop()
    logs = "".join(b.output() for b in bots)
    assert "Traceback" not in logs, logs[-5000:]


async def test_kill_9_of_one_process_mid_storm_loses_nothing_and_is_taken_over_within_seconds(
    pg_url, paced, slack_emulator, tmp_path
):
    groups = 60
    victim, survivor = bots = start_bots(
        2, pg_url, slack_emulator.api_url, tmp_path,
        WARROOM_SLACK_RATE_SCALE=RATE_SCALE,
        WARROOM_HEARTBEAT_SECONDS=1,  # dead after 5 missed beats; the 60 s lease would be far too slow
        WARROOM_OUTBOX_MAX_ATTEMPTS=50,
    )  # fmt: skip
    try:
        await asyncio.gather(*(b.wait_ready() for b in bots))
        bodies = group_bodies(groups, per_group=6, per_body=2)
        sent = Sent()
        first, rest = bodies[: len(bodies) // 2], bodies[len(bodies) // 2 :]
        await asyncio.wait_for(send(first, bots, sent), timeout=120)

        async def victim_holds_claims() -> list[tuple]:
            return await query(
                pg_url,
                "SELECT p.id, count(d.id) FROM processes p JOIN deliveries d ON d.claimed_by = p.id"
                " WHERE p.pid = %s AND d.status = 'inflight' GROUP BY p.id",
                victim.pid,
            )

        ((dead_id, held),) = await _until(victim_holds_claims, timeout=30)
        storm = asyncio.create_task(send(rest, bots, sent))  # requests in flight to the victim as it dies
        await asyncio.sleep(0.2)
        victim.kill()
        killed_at = time.monotonic()

        async def resumed() -> bool:
            left = await query(
                pg_url, "SELECT count(*) FROM deliveries WHERE claimed_by = %s AND status = 'inflight'", dead_id
            )
            return left[0][0] == 0

        await _until(resumed)
        taken_over_after = time.monotonic() - killed_at
        await asyncio.wait_for(storm, timeout=120)
        retry = Sent()
        refused = [b for b in rest if any(a["fingerprint"] in sent.refused for a in b["alerts"])]
        # What the dead process never acknowledged goes to the survivor, as a load balancer would send it.
        await asyncio.wait_for(send(refused, [survivor], retry), timeout=120)
        sent.acknowledged += retry.acknowledged
        await wait_all_delivered(pg_url, groups, timeout=180)
        await asyncio.sleep(0.5)

        stored = await query(pg_url, "SELECT fingerprint, count(*) FROM alerts GROUP BY fingerprint")
        per_print = dict(stored)
        assert set(sent.acknowledged) <= set(per_print), "every 202-acknowledged alert is stored"
        assert set(per_print.values()) == {1}, "and stored once"
        refs = {r for (r,) in await query(pg_url, "SELECT ref FROM incidents")}
        assert len(refs) == groups
        assert exactly_once_problems(slack_tally(paced), refs) == []
        print(f"kill -9: {held} deliveries in flight on the dead process, taken over after {taken_over_after:.1f}s")
        assert taken_over_after < 10, f"the dead process's work waited {taken_over_after:.1f}s"
    finally:
        for b in bots:
            b.stop()
    assert "Traceback" not in survivor.output(), survivor.output()[-5000:]


async def _until(check, interval: float = 0.1, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, f"{check.__name__} not met within {timeout}s"
        await asyncio.sleep(interval)
    return result
