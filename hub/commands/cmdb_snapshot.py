"""The CMDB as the parser sees it: an in-memory index rebuilt from the database when stale.

`guardia cmdb import` runs in another process, so the hub cannot be told of changes; a short
time-to-live keeps commands fast without serving an old CMDB for long.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.importer import export_document
from cmdb.index import CmdbIndex


class CmdbSnapshot:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: float = 2.0) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._index: CmdbIndex | None = None
        self._loaded = 0.0
        self._lock = asyncio.Lock()

    async def index(self) -> CmdbIndex:
        if self._index is not None and time.monotonic() - self._loaded < self._ttl:
            return self._index
        async with self._lock:
            if self._index is None or time.monotonic() - self._loaded >= self._ttl:
                async with self._sessions() as session:
                    document = await export_document(session)
                fresh = CmdbIndex.from_document(document)
                # keep the old object (and the parser cached on it) when nothing changed
                if self._index is None or self._index.document != fresh.document:
                    self._index = fresh
                self._loaded = time.monotonic()
        return self._index
