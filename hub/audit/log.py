"""Appends to the audit chain through one writer per hub, which batches what arrives at once.

Callers await their entry: it is stored (and anchored) when `append` returns. Entries that
arrive while a batch is being written share the next commit, so a busy hub pays one
transaction for many entries, and the chain stays strictly ordered (on PostgreSQL across
hubs too: cmdb/audit.py takes an advisory lock per batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.audit import Entry, append_batch
from cmdb.tables import AuditEvent

log = logging.getLogger("guardia.hub.audit")

#: called with the last stored entry after every batch (the signed head)
OnStored = Callable[[AuditEvent], None]
_Item = tuple[Entry, "asyncio.Future[None]"]
MAX_BATCH = 256


class AuditLog:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key: bytes | None = None,
        on_stored: OnStored | None = None,
    ) -> None:
        self._sessions = sessions
        self._key = key
        self._on_stored = on_stored
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def append(
        self,
        actor: str,
        kind: str,
        detail: dict[str, Any],
        task_id: str | None = None,
        scope: str | None = None,
    ) -> None:
        """Add a decision or outcome at the head of the chain; returns once it is stored."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((Entry(actor, kind, detail, task_id, scope), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="audit-writer")
        await future

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self._sessions() as session:
                    events = await append_batch(session, [e for e, _ in batch], self._key)
            except Exception as exc:  # each caller hears of it; the writer goes on
                log.exception("appending %d audit entries failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if self._on_stored is not None:
                try:
                    self._on_stored(events[-1])
                except Exception:
                    log.exception("recording the audit head failed")
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
