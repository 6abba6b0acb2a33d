"""Stores room messages in batches, then broadcasts them in seq order.

One writer task per active room drains that room's queue: when senders outpace the
database, one commit carries many messages instead of one commit per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.message_log import append_batch, stamp
from hub.ops import metrics
from protocol import Message, utc_now

log = logging.getLogger("guardia.hub.room_writer")

Broadcast = Callable[[str, int, str], None]
_Item = tuple[Message, "asyncio.Future[Message]"]


class RoomWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broadcast: Broadcast,
        *,
        batch: int = 256,
        persist: bool = True,
    ) -> None:
        self._sessions = sessions
        self._broadcast = broadcast
        self._batch = batch
        self._persist = persist
        self._queues: dict[str, asyncio.Queue[_Item]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: in-memory seq counters, only when persistence is off (benchmarks)
        self._counters: dict[str, itertools.count[int]] = {}

    async def post(self, message: Message) -> Message:
        """Store and broadcast a room message; returns it with its seq and timestamp."""
        return await self.submit(message)

    def submit(self, message: Message) -> asyncio.Future[Message]:
        """Queue a room message without waiting for it to be stored.

        A reader that does not wait keeps reading, so one fast sender's messages share a
        commit; the queue keeps them in the order they were submitted.
        """
        room_id = message.room_id
        if room_id is None:
            raise ValueError("a room message needs a room_id")
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(room_id)
        if queue is None:
            queue = self._queues[room_id] = asyncio.Queue()
            self._tasks[room_id] = asyncio.create_task(self._drain(room_id, queue))
        queue.put_nowait((message, future))
        return future

    async def _drain(self, room_id: str, queue: asyncio.Queue[_Item]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._batch and not queue.empty():
                batch.append(queue.get_nowait())
            started = time.perf_counter()
            try:
                stored = await self._store(room_id, [m for m, _ in batch])
                metrics.messages_stored(len(stored), time.perf_counter() - started)
            except Exception as exc:  # the senders hear of it; the writer goes on
                log.exception("storing %d messages of room %s failed", len(batch), room_id)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (message, frame), (_, future) in zip(stored, batch, strict=True):
                assert message.seq is not None
                self._broadcast(room_id, message.seq, frame)
                if not future.done():
                    future.set_result(message)

    async def _store(self, room_id: str, messages: list[Message]) -> list[tuple[Message, str]]:
        if self._persist:
            return await append_batch(self._sessions, room_id, messages)
        counter = self._counters.setdefault(room_id, itertools.count(1))
        ts = utc_now()
        return [stamp(m, next(counter), ts) for m in messages]

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._queues.clear()
