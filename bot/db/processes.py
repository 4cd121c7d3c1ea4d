"""The processes table: who is running, since when, last heartbeat; releasing the claims of the dead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update

from bot.db.store import INFLIGHT, PENDING, Store, Tx
from bot.db.tables import DeliveryRow, ProcessRow, TimerRow


@dataclass(frozen=True, slots=True)
class Released:
    """Claims handed back to the queues: of which processes, how many deliveries and timers."""

    processes: list[str] = field(default_factory=list)
    deliveries: int = 0
    timers: int = 0

    def __bool__(self) -> bool:
        """True when anything was released."""
        return bool(self.processes or self.deliveries or self.timers)


async def _release(tx: Tx, owners: list[str]) -> tuple[int, int]:
    """Return the in-flight deliveries and timers claimed by `owners` to their queues, due at once."""
    if not owners:
        return 0, 0
    counts = []
    for row in (DeliveryRow, TimerRow):
        res = await tx.session.execute(
            update(row)
            .where(row.status == INFLIGHT, row.claimed_by.in_(owners))
            .values(status=PENDING, claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        counts.append(int(getattr(res, "rowcount", 0) or 0))
    return counts[0], counts[1]


class ProcessTable:
    """Registration and heartbeats of warroom processes sharing one database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def register(self, *, process_id: str, instance: str, host: str, pid: int, now: datetime) -> Released:
        """Record this process as alive. Earlier runs of the same instance are over (an instance runs once at
        a time): their claims are released at once rather than when their heartbeat runs out."""
        async with self.store.transaction() as tx:
            earlier = list(
                (
                    await tx.session.execute(
                        delete(ProcessRow)
                        .where(ProcessRow.instance == instance, ProcessRow.id != process_id)
                        .returning(ProcessRow.id)
                    )
                ).scalars()
            )
            deliveries, timers = await _release(tx, earlier)
            await tx.session.execute(delete(ProcessRow).where(ProcessRow.id == process_id))
            tx.session.add(
                ProcessRow(id=process_id, instance=instance, host=host, pid=pid, started_at=now, heartbeat_at=now)
            )
        return Released(earlier, deliveries, timers)

    async def beat(self, process_id: str, now: datetime) -> bool:
        """Refresh the heartbeat; False when the row is gone (another process took this one for dead)."""
        async with self.store.transaction() as tx:
            res = await tx.session.execute(
                update(ProcessRow)
                .where(ProcessRow.id == process_id)
                .values(heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(res, "rowcount", 0))

    async def reap(self, *, cutoff: datetime) -> Released:
        """Processes silent since before `cutoff` are gone: delete them and release their claims."""
        async with self.store.transaction() as tx:
            dead = list(
                (
                    await tx.session.execute(
                        delete(ProcessRow).where(ProcessRow.heartbeat_at < cutoff).returning(ProcessRow.id)
                    )
                ).scalars()
            )
            deliveries, timers = await _release(tx, dead)
        return Released(dead, deliveries, timers)

    async def unregister(self, process_id: str) -> Released:
        """A clean stop: release this process's claims now and remove its row."""
        async with self.store.transaction() as tx:
            await tx.session.execute(delete(ProcessRow).where(ProcessRow.id == process_id))
            deliveries, timers = await _release(tx, [process_id])
        return Released([process_id], deliveries, timers)

    async def alive(self) -> list[ProcessRow]:
        """Every registered process, oldest first."""
        async with self.store.read() as tx:
            q = select(ProcessRow).order_by(ProcessRow.started_at, ProcessRow.id)
            return list((await tx.session.execute(q)).scalars())
