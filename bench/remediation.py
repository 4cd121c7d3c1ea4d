"""Remediation: click -> approval recorded -> executor started, and the adversarial suite's refusals.

In process, on SQLite (a temporary file), with the dry-run executor: incidents whose confirmed hypothesis
proposes HIGH-risk steps (approval needed), then one Approve click per action through the button handler
(`handlers.slack.actions.click`, the same call Bolt makes). The scheduler runs as in `warroom serve` (its
loop woken by the commit that queued the execution job), so the figure includes the durable job's hand-off.
Reported: p50 / p99 / max of click -> approval committed, and of click -> executor started (target p99 < 500 ms).
Then the adversarial suite (tests/remediation_attacks.py): attempts refused / attempts.

    python bench/remediation.py [--incidents 40] [--steps 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.execution import ExecRequest, ExecResult, ExecutorRegistry
from handlers.slack.actions import click
from handlers.slack.context import SlackContext
from integrations.executors.dry_run import DryRunExecutor
from tests.builders import sqlite_store
from tests.remediation_attacks import run_attacks
from tests.remediation_env import COMMANDER, make_env, step


class Timed:
    """The dry-run executor, noting when each action reached it."""

    name = "dry_run"

    def __init__(self) -> None:
        self.inner = DryRunExecutor()
        self.started: dict[str, float] = {}

    async def preflight(self, req: ExecRequest) -> None:
        await self.inner.preflight(req)

    async def run(self, req: ExecRequest) -> ExecResult:
        self.started.setdefault(req.action_id, time.perf_counter())
        return await self.inner.run(req)


def summary(label: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"{label}: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {max(ms):.1f} ms (n={len(ms)})"


async def latency(args: argparse.Namespace, tmp: Path) -> None:
    store = await sqlite_store(tmp / "latency")
    timed = Timed()
    env = await make_env(store, [step("high", n=i + 1) for i in range(args.steps)])
    env.deps.remediation.executors = ExecutorRegistry.of([timed])  # kubectl steps fall back to dry_run
    ids: list[str] = []
    for _ in range(args.incidents):
        ref = await env.declare(namespace="shop")
        await env.take_command(ref)
        await env.confirm(ref)
        ids += [a.id for a in await env.actions(ref)]
    store.on_timers_committed(env.scheduler.wake)
    env.scheduler.start()
    ctx = SlackContext(deps=env.deps, chat=env.chat)
    recorded, started = [], []
    for aid in ids:
        t0 = time.perf_counter()
        await click(ctx, {"action_id": "action-approve", "value": aid}, COMMANDER)
        recorded.append((time.perf_counter() - t0) * 1000)
        while aid not in timed.started:
            await asyncio.sleep(0.0005)
        started.append((timed.started[aid] - t0) * 1000)
    await env.scheduler.stop()
    print(summary("click -> approval recorded", recorded))
    print(summary("click -> executor started ", started))
    await store.dispose()


async def attacks(tmp: Path) -> None:
    store = await sqlite_store(tmp / "attacks")
    results = await run_attacks(store)
    ok = [r for r in results if r.refused and r.executed == 0 and r.audited]
    print(f"adversarial suite: {len(ok)}/{len(results)} attempts refused (nothing run, each audited)")
    for r in results:
        print(f"  {'refused' if r in ok else 'NOT REFUSED'}: {r.name} [{r.rule}]")
    await store.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=40)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "latency").mkdir()
        (tmp / "attacks").mkdir()
        await latency(args, tmp)
        await attacks(tmp)


if __name__ == "__main__":
    asyncio.run(main())
