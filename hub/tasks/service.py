"""Tasks from creation to result: signed, sent to their agent, and reported in the room.

Delivery is at least once: a task goes out again whenever its agent says hello, and the
agent answers a task id it has seen from its outbox. A result is stored before it is
acknowledged, so neither a hub nor an agent restart loses it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cmdb.tables import Task, utcnow
from hub.audit.log import AuditLog
from hub.exceptions import Forbidden, IllegalTransition
from hub.i18n import pick
from hub.ops import log_context
from hub.rooms.voice import BOT_NAME, BotVoice
from hub.tasks.states import TaskState, check_agent_move, is_final
from hub.tasks.store import OUT, WAITING, TaskStore, iso, task_scope
from hub.wire.agent_router import AgentRouter
from protocol import (
    Ack,
    TaskAssign,
    TaskCancel,
    TaskFinished,
    TaskProgress,
    TaskResult,
    TaskStep,
    TaskUpdate,
    encode,
)
from protocol.messages import FinishReason
from protocol.signing import sign_task

log = logging.getLogger("guardia.hub.tasks")

PROGRESS_INTERVAL = 0.5  # seconds between TASK_UPDATEs of one task in a room


class TaskService:
    def __init__(
        self,
        store: TaskStore,
        agents: AgentRouter,
        voice: BotVoice,
        audit: AuditLog,
        signing_key: Ed25519PrivateKey,
    ) -> None:
        self.store = store
        self._agents = agents
        self._voice = voice
        self._audit = audit
        self._signing_key = signing_key
        self._last_update: dict[str, float] = {}
        self._ended: list[Callable[[Task], Awaitable[None]]] = []

    def watch_endings(self, listener: Callable[[Task], Awaitable[None]]) -> None:
        """Call `listener` with every task that ends (after it is stored, before its card)."""
        self._ended.append(listener)

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
        return sign_task(assign, self._signing_key)

    async def dispatch(self, task: Task) -> None:
        """Send a task to its agent now, or tell the room it waits for the agent."""
        agent_id = task.agent_id
        assert agent_id is not None
        log_context.about_task(task)
        if await self._agents.is_online(agent_id):
            # recorded before it is sent: the agent's answer may come back at once. Should the
            # link drop in between, the task goes out again when the agent says hello.
            task = await self.store.transition(task.id, TaskState.DISPATCHED, f"sent to {agent_id}")
            await self._agents.send(agent_id, encode(self.assignment(task)))
            return
        wait_min = max(1, round(self.store.limits.dispatch_wait / 60))
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
        for task in await self.store.of_agent(agent_id):
            if task.status in WAITING:
                await self.dispatch(task)
            else:
                self._agents.send_here(agent_id, encode(self.assignment(task)))

    async def cancel_on_agent(self, task: Task) -> None:
        """Ask the agent running a task to stop it; its result ends the task."""
        assert task.agent_id is not None
        await self._agents.send(task.agent_id, encode(TaskCancel(task_id=task.id)))

    # -- what agents report ----------------------------------------------------------------

    async def _own_task(self, agent_id: str, task_id: str) -> Task:
        """The task, if it was sent to this agent: an agent reports only on its own tasks."""
        task = await self.store.get(task_id)
        if task is not None:
            log_context.about_task(task)
        if task is None or task.agent_id != agent_id:
            log.warning("agent %s reported on task %s that is not its own", agent_id, task_id)
            raise Forbidden(f"task {task_id} was not sent to agent {agent_id}")
        if not is_final(task.status) and task.status not in OUT:
            log.warning(
                "agent %s reported on task %s, which was never sent (%s)",
                agent_id,
                task_id,
                task.status,
            )
            raise Forbidden(f"task {task_id} was not sent to agent {agent_id}")
        return task

    async def on_accepted(self, agent_id: str, task_id: str) -> None:
        task = await self._own_task(agent_id, task_id)
        if task.status != TaskState.DISPATCHED:
            return
        await self.store.transition(task_id, TaskState.RUNNING, f"accepted by {agent_id}")
        await self._update(task, TaskUpdate(task_id=task_id, status="RUNNING"), force=True)

    async def on_progress(self, agent_id: str, msg: TaskProgress) -> None:
        task = await self._own_task(agent_id, msg.task_id)
        if is_final(task.status):
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
        if not is_final(task.status):
            steps = {(s["node"], s["action"]) for s in task.steps}
            strays = [r for r in msg.results if (r.node, r.action) not in steps]
            if strays:
                raise Forbidden(
                    f"task {task.id} has no step "
                    + ", ".join(f"{r.action} on {r.node}" for r in strays)
                )
            results = [r.model_dump(mode="json") for r in msg.results]
            try:
                check_agent_move(task.status, msg.status)
                task = await self.store.transition(
                    task.id, TaskState(msg.status), f"result from {agent_id}", results=results
                )
            except IllegalTransition as exc:
                log.warning("task %s: result %s refused: %s", task.id, msg.status, exc)
                raise Forbidden(f"task {task.id}: {exc}") from None
            await self._audit.append(
                agent_id,
                "result",
                {
                    "status": msg.status,
                    "results": [
                        {"node": r.node, "action": r.action, "ok": r.ok} for r in msg.results
                    ],
                },
                task.id,
                task_scope(task),
            )
            await self._post_finished(task, self._summary(task, msg), msg.results)
        # stored (now or before): the agent may forget it
        self._agents.send_here(agent_id, encode(Ack(task_id=msg.task_id)))
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
        await self._voice.post(
            update.model_copy(
                update={"room_id": task.room_id, "sender": BOT_NAME, "sender_type": "SYSTEM"}
            )
        )

    async def say(self, task: Task, text: str) -> None:
        if task.room_id is not None:
            await self._voice.say(task.room_id, text)

    # -- time limits -----------------------------------------------------------------------

    async def sweep(self) -> None:
        """End tasks whose agent never came, and tasks past their deadline."""
        for task in await self.store.stale(utcnow()):
            log_context.about_task(task)
            reason: FinishReason
            if task.status in WAITING:
                reason = "AGENT_NOT_CONNECTED"
                new, why = (
                    TaskState.FAILED,
                    pick(
                        task.lang,
                        f"에이전트 {task.agent_id}가 제한 시간 안에 연결되지 않았습니다",
                        f"agent {task.agent_id} did not connect in time",
                    ),
                )
            else:
                reason = "DEADLINE"
                new, why = (
                    TaskState.TIMED_OUT,
                    pick(task.lang, "작업 제한 시간이 지났습니다", "the task passed its deadline"),
                )
                if task.agent_id is not None:
                    await self.cancel_on_agent(task)
            try:
                await self.finish_here(task, new, why, reason)
            except IllegalTransition:
                continue

    async def finish_here(
        self,
        task: Task,
        new: TaskState | None,
        why: str,
        reason: FinishReason,
        actor: str | None = None,
    ) -> None:
        """End a task on the hub's side (no agent result) and tell its room why.

        `why` is for the log and the audit; readers get `reason` and `actor`, which they
        word in their own language."""
        if new is not None:
            task = await self.store.transition(task.id, new, why)
        await self._audit.append(
            BOT_NAME, "ended", {"status": task.status, "why": why}, task.id, task_scope(task)
        )
        self._last_update.pop(task.id, None)
        await self._post_finished(
            task, f"{task.id} {task.status}: {why}", [], reason=reason, actor=actor
        )

    async def _post_finished(
        self,
        task: Task,
        content: str,
        results: list[TaskResult],
        *,
        reason: FinishReason | None = None,
        actor: str | None = None,
    ) -> None:
        """The result card in the task's room (with the task's final status)."""
        for listener in self._ended:
            try:
                await listener(task)
            except Exception:
                log.exception("a listener failed on the end of task %s", task.id)
        if task.room_id is None:
            return
        await self._voice.post(
            TaskFinished(
                room_id=task.room_id,
                sender=BOT_NAME,
                sender_type="SYSTEM",
                task_id=task.id,
                status=task.status,  # type: ignore[arg-type]
                results=results,
                content=content,
                reason=reason,
                actor=actor,
            )
        )
