"""Tasks from creation to result: stored, signed, sent to their agent, and reported.

Delivery is at least once: a task goes out again whenever its agent says hello, and the
agent answers a task id it has seen from its outbox. A result is stored before it is
acknowledged, so neither a hub nor an agent restart loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from cmdb.tables import Task, TaskEvent, utcnow
from hub.exceptions import IllegalTransition
from hub.i18n import pick
from hub.task_states import TaskState, check_transition, is_final
from protocol import (
    Ack,
    Chat,
    TaskAssign,
    TaskCancel,
    TaskFinished,
    TaskProgress,
    TaskResult,
    TaskStep,
    TaskUpdate,
    encode,
)
from protocol.signing import sign_task

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger("guardia.hub.tasks")

BOT_NAME = "GUARDiA-Bot"
PROGRESS_INTERVAL = 0.5  # seconds between TASK_UPDATEs of one task in a room
SWEEP_INTERVAL = 1.0
_WAITING = (TaskState.QUEUED, TaskState.APPROVED)
_OUT = (TaskState.DISPATCHED, TaskState.RUNNING)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_task_id() -> str:
    return "T" + uuid.uuid4().hex[:12].upper()


class TaskService:
    def __init__(self, state: HubState) -> None:
        self.state = state
        self._last_update: dict[str, float] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="task-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    # -- creating and moving ---------------------------------------------------------------

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
        settings = self.state.settings
        task = Task(
            id=task_id or new_task_id(),
            room_id=room_id,
            requested_by=requested_by,
            agent_id=agent_id,
            status=status,
            plan=plan or {},
            steps=[s.model_dump(mode="json") for s in steps],
            lang=lang,
            deadline=now + timedelta(seconds=settings.task_deadline),
            dispatch_by=now + timedelta(seconds=settings.dispatch_wait),
            created_at=now,
            updated_at=now,
        )
        async with self.state.sessions() as session:
            session.add(task)
            session.add(TaskEvent(task_id=task.id, to_status=status, cause=cause, at=now))
            await session.commit()
        return task

    async def transition(self, task_id: str, new: TaskState, cause: str, **updates: Any) -> Task:
        """Move a task by the transition table, storing the change with its time and cause."""
        async with self.state.sessions() as session:
            task = await session.get(Task, task_id, with_for_update=True)
            if task is None:
                raise IllegalTransition(f"no task {task_id}")
            old = task.status
            check_transition(old, new)
            task.status = new
            task.updated_at = utcnow()
            for key, value in updates.items():
                setattr(task, key, value)
            session.add(task)
            session.add(TaskEvent(task_id=task_id, from_status=old, to_status=new, cause=cause))
            await session.commit()
            return task

    async def get(self, task_id: str) -> Task | None:
        async with self.state.sessions() as session:
            return await session.get(Task, task_id)

    # -- sending to agents -----------------------------------------------------------------

    def assignment(self, task: Task) -> TaskAssign:
        assign = TaskAssign(
            task_id=task.id,
            agent_id=task.agent_id,
            room_id=task.room_id,
            requested_by=task.requested_by,
            approved_by=list(task.approved_by),
            deadline=iso(task.deadline or utcnow()),
            steps=[TaskStep.model_validate(s) for s in task.steps],
        )
        return sign_task(assign, self.state.signing_key)

    async def dispatch(self, task: Task) -> None:
        """Send a task to its agent now, or tell the room it waits for the agent."""
        agent_id = task.agent_id
        assert agent_id is not None
        if await self.state.agent_online(agent_id):
            # recorded before it is sent: the agent's answer may come back at once. Should the
            # link drop in between, the task goes out again when the agent says hello.
            task = await self.transition(task.id, TaskState.DISPATCHED, f"sent to {agent_id}")
            await self.state.send_to_agent(agent_id, encode(self.assignment(task)))
            return
        wait_min = max(1, round(self.state.settings.dispatch_wait / 60))
        await self.say(
            task,
            pick(
                task.lang,
                f"에이전트 {task.agent_id}가 연결되어 있지 않습니다. 작업 {task.id}는 "
                f"최대 {wait_min}분 동안 연결을 기다립니다.",
                f"Agent {task.agent_id} is not connected. Task {task.id} waits up to "
                f"{wait_min} min for it.",
            ),
        )

    async def redeliver(self, agent_id: str) -> None:
        """An agent said hello: send what waits for it, and again what it may have missed."""
        async with self.state.sessions() as session:
            rows = await session.exec(
                select(Task)
                .where(Task.agent_id == agent_id, col(Task.status).in_([*_WAITING, *_OUT]))
                .order_by(col(Task.created_at))
            )
            tasks = list(rows)
        for task in tasks:
            if task.status in _WAITING:
                await self.dispatch(task)
            else:
                self.state.agents.send(agent_id, encode(self.assignment(task)))

    # -- what agents report ----------------------------------------------------------------

    async def _own_task(self, agent_id: str, task_id: str) -> Task | None:
        task = await self.get(task_id)
        if task is None or task.agent_id != agent_id:
            log.warning("agent %s reported on task %s that is not its own", agent_id, task_id)
            return None
        return task

    async def on_accepted(self, agent_id: str, task_id: str) -> None:
        task = await self._own_task(agent_id, task_id)
        if task is None or task.status != TaskState.DISPATCHED:
            return
        await self.transition(task_id, TaskState.RUNNING, f"accepted by {agent_id}")
        await self._update(task, TaskUpdate(task_id=task_id, status="RUNNING"), force=True)

    async def on_progress(self, agent_id: str, msg: TaskProgress) -> None:
        task = await self._own_task(agent_id, msg.task_id)
        if task is None or is_final(task.status):
            return
        update = TaskUpdate(
            task_id=msg.task_id,
            status="RUNNING",
            step=msg.step,
            node=msg.node,
            progress=msg.progress,
            message=msg.message or None,
        )
        await self._update(task, update, force=msg.progress >= 1.0)

    async def on_finished(self, agent_id: str, msg: TaskFinished) -> None:
        task = await self._own_task(agent_id, msg.task_id)
        if task is None:
            return
        if not is_final(task.status):
            results = [r.model_dump(mode="json") for r in msg.results]
            try:
                task = await self.transition(
                    task.id, TaskState(msg.status), f"result from {agent_id}", results=results
                )
            except (IllegalTransition, ValueError) as exc:
                log.warning("task %s: result %s refused: %s", task.id, msg.status, exc)
                return
            await self.state.audit(
                agent_id,
                "result",
                {
                    "status": msg.status,
                    "results": [
                        {"node": r.node, "action": r.action, "ok": r.ok} for r in msg.results
                    ],
                },
                task.id,
            )
            await self._post_finished(task, self._summary(task, msg), msg.results)
        # stored (now or before): the agent may forget it
        self.state.agents.send(agent_id, encode(Ack(task_id=msg.task_id)))
        self._last_update.pop(msg.task_id, None)

    @staticmethod
    def _summary(task: Task, msg: TaskFinished) -> str:
        ok = sum(1 for r in msg.results if r.ok)
        return pick(
            task.lang,
            f"작업 {task.id} {msg.status}: {ok}/{len(msg.results)} 성공",
            f"Task {task.id} {msg.status}: {ok}/{len(msg.results)} succeeded",
        )

    async def _update(self, task: Task, update: TaskUpdate, *, force: bool) -> None:
        """Post a TASK_UPDATE unless one went out for this task very recently."""
        if task.room_id is None:
            return
        now = time.monotonic()
        last = self._last_update.get(task.id, 0.0)
        if not force and now - last < PROGRESS_INTERVAL:
            return
        self._last_update[task.id] = now
        await self.state.post(
            update.model_copy(
                update={"room_id": task.room_id, "sender": BOT_NAME, "sender_type": "SYSTEM"}
            )
        )

    async def say(self, task: Task, text: str) -> None:
        if task.room_id is not None:
            await self.state.post(
                Chat(room_id=task.room_id, content=text, sender=BOT_NAME, sender_type="BOT")
            )

    # -- time limits -----------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                await self.sweep()
            except Exception:
                log.exception("task sweep failed")

    async def sweep(self) -> None:
        """End tasks whose agent never came, and tasks past their deadline."""
        await self.state.approvals.sweep()
        now = utcnow()
        async with self.state.sessions() as session:
            stale = list(
                await session.exec(
                    select(Task).where(
                        col(Task.status).in_([*_WAITING, *_OUT]),
                        (col(Task.deadline) < now)
                        | (col(Task.status).in_(_WAITING) & (col(Task.dispatch_by) < now)),
                    )
                )
            )
        for task in stale:
            if task.status in _WAITING:
                new, why = (
                    TaskState.FAILED,
                    pick(
                        task.lang,
                        f"에이전트 {task.agent_id}가 제한 시간 안에 연결되지 않았습니다",
                        f"agent {task.agent_id} did not connect in time",
                    ),
                )
            else:
                new, why = (
                    TaskState.TIMED_OUT,
                    pick(task.lang, "작업 제한 시간이 지났습니다", "the task passed its deadline"),
                )
                if task.agent_id is not None:
                    await self.state.send_to_agent(
                        task.agent_id, encode(TaskCancel(task_id=task.id))
                    )
            try:
                await self.finish_here(task, new, why)
            except IllegalTransition:
                continue

    async def finish_here(self, task: Task, new: TaskState | None, why: str) -> None:
        """End a task on the hub's side (no agent result) and tell its room why."""
        if new is not None:
            task = await self.transition(task.id, new, why)
        await self.state.audit(BOT_NAME, "ended", {"status": task.status, "why": why}, task.id)
        self._last_update.pop(task.id, None)
        await self._post_finished(task, f"{task.id} {task.status}: {why}", [])

    async def _post_finished(self, task: Task, content: str, results: list[TaskResult]) -> None:
        """The result card in the task's room (with the task's final status)."""
        if task.room_id is None:
            return
        await self.state.post(
            TaskFinished(
                room_id=task.room_id,
                sender=BOT_NAME,
                sender_type="SYSTEM",
                task_id=task.id,
                status=task.status,  # type: ignore[arg-type]
                results=results,
                content=content,
            )
        )
