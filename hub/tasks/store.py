"""Tasks as stored: created, moved by the state table (every move recorded), and found."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import Approval, Task, TaskEvent, utcnow
from hub.exceptions import IllegalTransition
from hub.ops import metrics
from hub.tasks.states import TaskState, check_transition
from protocol import TaskStep

log = logging.getLogger("guardia.hub.tasks")

WAITING = (TaskState.QUEUED, TaskState.APPROVED)
#: work done in a task transition's own transaction
Within = Callable[[AsyncSession, Task], Awaitable[None]]
OUT = (TaskState.DISPATCHED, TaskState.RUNNING)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def scope_text(institution: str | None, system: str | None) -> str | None:
    """ "INST/SYS", "INST" or None, leaving out what is UNKNOWN."""
    if not institution or institution == "UNKNOWN":
        return None
    if not system or system == "UNKNOWN":
        return institution
    return f"{institution}/{system}"


def task_scope(task: Task) -> str | None:
    """The scope a task's audit entries and views belong to: its plan's system."""
    plan = task.plan or {}
    return scope_text(plan.get("institution"), plan.get("system_name"))


def new_task_id() -> str:
    return "T" + uuid.uuid4().hex[:12].upper()


@dataclass(frozen=True)
class TaskLimits:
    #: seconds a task may run
    deadline: float
    #: seconds a task waits for its agent to connect
    dispatch_wait: float


class TaskStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], limits: TaskLimits) -> None:
        self._sessions = sessions
        self.limits = limits

    async def create(
        self,
        *,
        task_id: str | None = None,
        room_id: str | None,
        requested_by: str,
        agent_id: str,
        steps: list[TaskStep],
        plan: dict[str, Any] | None = None,
        lang: str = "en",
        status: TaskState = TaskState.QUEUED,
        cause: str = "created",
    ) -> Task:
        now = utcnow()
        task = Task(
            id=task_id or new_task_id(),
            room_id=room_id,
            requested_by=requested_by,
            agent_id=agent_id,
            status=status,
            plan=plan or {},
            steps=[s.model_dump(mode="json") for s in steps],
            lang=lang,
            deadline=now + timedelta(seconds=self.limits.deadline),
            dispatch_by=now + timedelta(seconds=self.limits.dispatch_wait),
            created_at=now,
            updated_at=now,
        )
        async with self._sessions() as session:
            session.add(task)
            session.add(TaskEvent(task_id=task.id, to_status=status, cause=cause, at=now))
            await session.commit()
        metrics.task_moved("NEW", status, now)
        log.info(
            "task %s %s for agent %s: %s",
            task.id,
            status,
            agent_id,
            cause,
            extra={"task_id": task.id, "agent_id": agent_id, "room_id": room_id},
        )
        return task

    async def transition(
        self,
        task_id: str,
        new: TaskState,
        cause: str,
        *,
        within: Within | None = None,
        **updates: Any,
    ) -> Task:
        """Move a task by the transition table, storing the change with its time and cause.

        `within` runs in the same transaction, after the move is checked: what must change
        with the task (an approval's decision) changes with it or, if it raises, neither does.
        A task leaving PENDING_APPROVAL any other way closes its approval request too.
        """
        async with self._sessions() as session:
            task = await session.get(Task, task_id, with_for_update=True)
            if task is None:
                raise IllegalTransition(f"no task {task_id}")
            old = task.status
            check_transition(old, new)
            if within is not None:
                await within(session, task)
            elif old == TaskState.PENDING_APPROVAL:
                await run(
                    session,
                    sa.update(Approval)
                    .where(col(Approval.task_id) == task_id, col(Approval.decision).is_(None))
                    .values(decision=new.value, decided_at=utcnow()),
                )
            task.status = new
            task.updated_at = utcnow()
            for key, value in updates.items():
                setattr(task, key, value)
            session.add(task)
            session.add(TaskEvent(task_id=task_id, from_status=old, to_status=new, cause=cause))
            await session.commit()
        metrics.task_moved(old, new, task.created_at)
        log.info(
            "task %s %s -> %s: %s",
            task_id,
            old,
            new,
            cause,
            extra={"task_id": task_id, "agent_id": task.agent_id, "room_id": task.room_id},
        )
        return task

    async def get(self, task_id: str) -> Task | None:
        async with self._sessions() as session:
            return await session.get(Task, task_id)

    async def of_agent(self, agent_id: str) -> list[Task]:
        """What waits for an agent or is out with it, oldest first."""
        async with self._sessions() as session:
            rows = await session.exec(
                select(Task)
                .where(Task.agent_id == agent_id, col(Task.status).in_([*WAITING, *OUT]))
                .order_by(col(Task.created_at))
            )
            return list(rows)

    async def stale(self, now: datetime) -> list[Task]:
        """Tasks past their deadline, and waiting tasks whose agent never came in time."""
        async with self._sessions() as session:
            rows = await session.exec(
                select(Task).where(
                    col(Task.status).in_([*WAITING, *OUT]),
                    (col(Task.deadline) < now)
                    | (col(Task.status).in_(WAITING) & (col(Task.dispatch_by) < now)),
                )
            )
            return list(rows)
