"""Periodic checks (expired approvals, late tasks) in one background loop per hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from hub.ops import log_context

log = logging.getLogger("guardia.hub.sweeper")

Check = Callable[[], Awaitable[None]]


class Sweeper:
    def __init__(self, checks: Sequence[Check], interval: float = 1.0) -> None:
        self._checks = list(checks)
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> None:
        """Run every check once; one failing check does not stop the others."""
        for check in self._checks:
            try:
                with log_context.bound():  # what a check says about a task stays with it
                    await check()
            except Exception:
                log.exception("sweep check %s failed", getattr(check, "__qualname__", check))

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.sweep()
