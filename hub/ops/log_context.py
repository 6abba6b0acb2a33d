"""What the code running now is about, for every log line it writes: task, room, agent, user.

Set where a command or a task is handled (the pipeline, the task service, the agent socket);
asyncio tasks started inside inherit it, and a value set by an awaited call stays for the rest
of the `bound()` block around it, so a line written deep in the store still names its task.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

#: the fields a line about a task carries (docs/operations.md, Logs)
FIELDS = ("task_id", "room_id", "agent_id", "user")

_CURRENT: ContextVar[dict[str, str] | None] = ContextVar("guardia_log_fields", default=None)


def current() -> dict[str, str]:
    return _CURRENT.get() or {}


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """These fields (and those already bound) on every line written inside the block."""
    token = _CURRENT.set(_merged(fields))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def annotate(**fields: str | None) -> None:
    """Add fields to the current block (or to the current asyncio task if none is open)."""
    _CURRENT.set(_merged(fields))


def about_task(task: Any) -> None:
    """The fields of a task (cmdb.tables.Task or anything shaped like it)."""
    annotate(task_id=task.id, room_id=task.room_id, agent_id=task.agent_id, user=task.requested_by)


def _merged(fields: dict[str, str | None]) -> dict[str, str]:
    merged = dict(_CURRENT.get() or {})
    merged.update({k: v for k, v in fields.items() if v is not None})
    return merged
