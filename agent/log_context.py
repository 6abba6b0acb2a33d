"""Which task the code running now is about, for the log lines it writes (contextvars).

Set around everything done for one task; asyncio tasks started inside inherit it, so a step's
lines carry the task id as well as the runner's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_TASK_ID: ContextVar[str | None] = ContextVar("guardia_task_id", default=None)


def current_task_id() -> str | None:
    return _TASK_ID.get()


@contextlib.contextmanager
def task_context(task_id: str) -> Iterator[None]:
    token = _TASK_ID.set(task_id)
    try:
        yield
    finally:
        _TASK_ID.reset(token)
