"""Requests that arrive together share one database transaction (RoomWriter's idea).

A storm is many small requests at once: one commit each would make the database's commit
rate the intake's limit. `Batcher.submit` queues a request and waits for its own result;
one drain task takes what is queued (up to `limit`) and hands it to the handler in one go.
A failing batch fails each of its requests with the same error (nothing of it is stored).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")


class Batcher(Generic[Req, Res]):
    def __init__(
        self, handler: Callable[[Sequence[Req]], Awaitable[Sequence[Res]]], limit: int = 64
    ) -> None:
        self._handler = handler
        self._limit = limit
        self._queue: asyncio.Queue[tuple[Req, asyncio.Future[Res]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, request: Req) -> Res:
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((request, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await asyncio.shield(future)  # a caller that gives up leaves the batch alone

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._limit and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._handler([request for request, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
