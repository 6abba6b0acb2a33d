"""One lane's loop: the room's new frames into the outbox, then the outbox out, in order.

The head row of a lane goes first or nothing does: a row that cannot go now (the other
side is down, or asked to wait with 429 Retry-After) holds the lane until it is due again,
so a channel sees what the hub decided in the order it decided it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta

from cmdb.tables import BridgeOutbox, utcnow
from hub.bridges.exceptions import RetryLater, Undeliverable
from hub.bridges.lanes import split_lane
from hub.bridges.outbox import LaneStore
from hub.bridges.senders import Sender

log = logging.getLogger("guardia.hub.bridges")


def backoff(attempts: int, ceiling: float) -> float:
    """Seconds before try number attempts+1: doubling from 0.5 s, jittered, capped."""
    return float(min(ceiling, 0.5 * 2 ** min(attempts, 16)) * random.uniform(0.8, 1.0))


class LaneWorker:
    def __init__(
        self, lane: str, store: LaneStore, sender: Sender, *, poll: float, retry_max: float
    ) -> None:
        self.lane = lane
        self.channel = split_lane(lane)[1]
        self._store = store
        self._sender = sender
        self._poll = poll
        self._retry_max = retry_max
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"lane {self.lane}")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._store.release(self.lane)

    async def _run(self) -> None:
        wait = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
            try:
                wait = await self._work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lane %s failed; trying again", self.lane)
                wait = self._poll

    async def _work(self) -> float:
        """Do what is due; returns how long to sleep unless woken."""
        if not await self._store.acquire(self.lane):
            return self._poll * 2  # another hub works this lane
        while True:
            moved = await self._store.translate_new(self.lane)
            row = await self._store.head(self.lane)
            if row is None:
                if moved:
                    continue
                return self._poll * 5
            due = (row.next_at - utcnow()).total_seconds()
            if due > 0:
                return due
            if await self._store.superseded(row):
                continue
            await self._send(row)
            await self._store.acquire(self.lane)  # a long run keeps its lease

    async def _send(self, row: BridgeOutbox) -> None:
        remote = await self._store.remote_id(self.lane, row.card) if row.card else None
        try:
            posted = await self._sender.send(self.channel, row.op, row.body, remote)
        except RetryLater as exc:
            wait = exc.after if exc.after is not None else backoff(row.attempts, self._retry_max)
            if row.attempts == 0 or row.attempts % 10 == 0:
                log.warning("lane %s: %s; trying again in %.1f s", self.lane, exc, wait)
            await self._store.retry(row, utcnow() + timedelta(seconds=wait), str(exc))
            return
        except Undeliverable as exc:
            await self._store.drop(row, str(exc))
            return
        await self._store.sent(row, posted)
