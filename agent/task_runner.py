"""Tasks from the hub: at most once per task id, results kept in the outbox until ACK.

    TASK_ASSIGN  seen before -> its stored TASK_FINISHED again (or TASK_ACCEPTED if running)
                 refused     -> TASK_FINISHED FAILED, stored
                 otherwise   -> stored as running, TASK_ACCEPTED, steps run, result stored,
                                TASK_FINISHED
    TASK_CANCEL  a running task stops: CANCELLED
    ACK          the stored result is dropped (the id is kept)

A dropped connection does not stop a task: `send` just fails, and the stored result goes
out when the link is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from agent.config import AgentConfig
from agent.hub_address import HubAddress
from agent.log_context import task_context
from agent.metrics import AgentMetrics
from agent.outbox import Outbox, OutboxEntry
from agent.step import ActionSpec, ProgressReport, ServiceParams, StepContext
from agent.task_checks import TaskChecker
from agent.task_execution import NodeGate, Send, TaskExecution
from agent.transport_pool import TransportPool
from protocol import TaskAccepted, TaskAssign, TaskFinished, TaskResult

log = logging.getLogger("guardia.agent.tasks")

RESTARTED = (
    "the agent restarted while this task ran; it was not run again "
    "(check the node: the step may have been done, partly or fully)"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class TaskRunner:
    def __init__(
        self,
        *,
        config: AgentConfig,
        catalog: Mapping[str, ActionSpec[Any]],
        checker: TaskChecker,
        outbox: Outbox,
        transports: TransportPool,
        hub: HubAddress,
        send: Send,
        clock: Callable[[], datetime] = utc_now,
        metrics: AgentMetrics | None = None,
    ) -> None:
        self.config = config
        self._catalog = catalog
        self._checker = checker
        self._outbox = outbox
        self._transports = transports
        self._hub = hub
        self._send = send
        self._clock = clock
        self._metrics = metrics
        self._gate = NodeGate(config.max_concurrency)
        self._intake = asyncio.Lock()
        self._accepting = True
        #: task id -> (its steps as an asyncio task, the task driving it to a result)
        self._running: dict[str, tuple[asyncio.Task[None], asyncio.Task[None]]] = {}
        self._cancel_reasons: dict[str, str] = {}

    @property
    def running(self) -> list[str]:
        return list(self._running)

    async def recover_interrupted(self) -> list[str]:
        """Tasks that were running when the agent died get a FAILED result; never a rerun."""
        entries = await self._outbox.interrupted()
        for entry in entries:
            with task_context(entry.task_id):
                await self._report_interrupted(entry)
        return [entry.task_id for entry in entries]

    async def _report_interrupted(self, entry: OutboxEntry) -> None:
        log.warning(
            "task %s was running when the agent stopped: reporting it FAILED, not running it again",
            entry.task_id,
        )
        results = [
            TaskResult(node=node, action=action, ok=False, summary=RESTARTED)
            for action, node in entry.steps
        ]
        await self._outbox.finish(
            TaskFinished(
                task_id=entry.task_id,
                status="FAILED",
                results=results,
                content=f"FAILED: {RESTARTED}",
            )
        )

    async def task_assigned(self, task: TaskAssign) -> None:
        with task_context(task.task_id):  # its steps' asyncio tasks inherit the id
            await self._assigned(task)

    async def _assigned(self, task: TaskAssign) -> None:
        async with self._intake:
            if task.task_id in self._running:
                await self._send(TaskAccepted(task_id=task.task_id))
                return
            entry = await self._outbox.lookup(task.task_id)
            if entry is not None:
                await self._answer_again(entry)
                return
            if not self._accepting:
                log.info(
                    "task %s arrived while shutting down: left for the next start", task.task_id
                )
                return
            refusal = self._checker.refusal(task, self._clock())
            if refusal is not None:
                log.warning("task %s refused: %s", task.task_id, refusal.content)
                if self._metrics is not None:
                    self._metrics.task_finished(refusal, refused=True)
                await self._outbox.finish(refusal)
                await self._send(refusal)
                return
            # stored before anything runs: after a crash it is reported, never run twice
            await self._outbox.begin(task.task_id, [(s.action, s.node) for s in task.steps])
            await self._send(TaskAccepted(task_id=task.task_id))
            self._start(task)

    def _start(self, task: TaskAssign) -> None:
        execution = TaskExecution(
            task,
            catalog=self._catalog,
            gate=self._gate,
            send=self._send,
            make_context=self._context,
            step_timeout=self._step_timeout,
        )
        steps = asyncio.create_task(execution.run(), name=f"task-{task.task_id}-steps")
        driver = asyncio.create_task(self._drive(execution, steps), name=f"task-{task.task_id}")
        self._running[task.task_id] = (steps, driver)
        log.info(
            "task %s started: %d step(s) on %s (requested by %s)",
            task.task_id,
            len(task.steps),
            ", ".join(execution.nodes()),
            task.requested_by,
        )

    async def _drive(self, execution: TaskExecution, steps: asyncio.Task[None]) -> None:
        task_id = execution.task_id
        try:
            cancelled: str | None = None
            try:
                await steps
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
                cancelled = self._cancel_reasons.pop(task_id, "cancelled by the hub")
            except Exception:
                log.exception("task %s: the agent failed running it", task_id)
            result = execution.finished(cancelled=cancelled)
            try:
                await self._outbox.finish(result)
            except Exception:
                log.exception("task %s: cannot store its result; sending it all the same", task_id)
            log.info("task %s finished: %s", task_id, result.status)
            if self._metrics is not None:
                self._metrics.task_finished(result)
            await self._send(result)
        finally:
            self._running.pop(task_id, None)

    async def _answer_again(self, entry: OutboxEntry) -> None:
        if entry.result is not None:
            log.info("task %s seen again: sending its stored result", entry.task_id)
            await self._send(entry.result)
        else:
            log.info("task %s seen again: already run and acknowledged; ignored", entry.task_id)

    def cancel(self, task_id: str, reason: str = "cancelled by the hub") -> bool:
        with task_context(task_id):
            return self._cancel(task_id, reason)

    def _cancel(self, task_id: str, reason: str) -> bool:
        running = self._running.get(task_id)
        if running is None:
            log.info("TASK_CANCEL for %s: not running here", task_id)
            return False
        self._cancel_reasons[task_id] = reason
        running[0].cancel()
        return True

    async def join(self) -> None:
        """Wait until no task is running (without cancelling any)."""
        while drivers := [driver for _, driver in self._running.values()]:
            await asyncio.wait(drivers)

    async def acknowledged(self, task_id: str) -> None:
        with task_context(task_id):
            if await self._outbox.ack(task_id):
                log.debug("task %s acknowledged by the hub", task_id)

    async def unacknowledged(self) -> list[TaskFinished]:
        return await self._outbox.unacknowledged()

    async def stop(self, grace: float, force: asyncio.Event | None = None) -> None:
        """Take no new task; give running ones `grace` seconds (or until `force`), then
        cancel them: their CANCELLED results are stored like any other."""
        self._accepting = False
        drivers = [driver for _, driver in self._running.values()]
        if drivers and grace > 0:
            log.info("waiting up to %g s for %d running task(s)", grace, len(drivers))
            await _wait_all(drivers, grace, force)
        for task_id in list(self._running):
            self.cancel(task_id, "the agent was shutting down")
        await asyncio.gather(*drivers, return_exceptions=True)

    def _context(self, task_id: str, node: str, report: ProgressReport) -> StepContext:
        return StepContext(
            node=node,
            transport=self._transports.get(node),
            config=self.config,
            hub=self._hub,
            task_id=task_id,
            report=report,
        )

    def _step_timeout(self, node: str, params: Any) -> float:
        if isinstance(params, ServiceParams):
            service = self.config.services.get(params.service)
            if service is not None and service.timeout is not None:
                return service.timeout
        return self.config.step_timeout


async def _wait_all(
    tasks: list[asyncio.Task[None]], seconds: float, force: asyncio.Event | None
) -> None:
    """Wait for all `tasks`, at most `seconds`, or until `force` is set."""
    forced = asyncio.create_task(force.wait()) if force is not None else None
    pending: set[asyncio.Future[Any]] = set(tasks)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while pending and (remaining := deadline - loop.time()) > 0:
            waiting = pending | ({forced} if forced is not None else set())
            done, _ = await asyncio.wait(
                waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if forced is not None and forced in done:
                return
            pending -= done
    finally:
        if forced is not None:
            forced.cancel()
