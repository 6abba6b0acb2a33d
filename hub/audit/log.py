"""Appends to the audit chain, one at a time per hub (PostgreSQL also locks across hubs)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.audit import append as append_audit


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()

    async def append(
        self, actor: str, kind: str, detail: dict[str, Any], task_id: str | None = None
    ) -> None:
        """Add a decision or outcome at the head of the chain."""
        async with self._lock, self._sessions() as session:
            await append_audit(session, actor, kind, detail, task_id)
