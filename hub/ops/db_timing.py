"""Database latency from SQLAlchemy's own events: every statement's time, by its verb.

The events fire on the sync engine under the async one, around the driver's execute, so
the time is what the statement took at the database (and the driver), not waiting for the
pool. The verb (SELECT, INSERT, UPDATE, DELETE, other) is read from the statement's start.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.ops import metrics

_VERBS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "PRAGMA"})
_KEY = "guardia_started"


def _verb(statement: str) -> str:
    word = statement.lstrip()[:7].split(None, 1)
    first = word[0].upper() if word else ""
    return first if first in _VERBS else "OTHER"


def instrument(engine: AsyncEngine) -> None:
    """Time every statement this engine runs into guardia_db_query_seconds."""
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info[_KEY] = time.perf_counter()

    @event.listens_for(sync, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info.pop(_KEY, None)
        if started is not None:
            metrics.db_statement(_verb(statement), time.perf_counter() - started)
