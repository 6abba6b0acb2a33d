"""One task's steps, run: per node in order, nodes in parallel (bounded) or rolling.

Steps of one node run in the order given and stop at that node's first failure. Nodes run
side by side, at most `max_concurrency` steps at once and one step at a time per node;
when the task changes things on several nodes (a rolling action: restart, deploy,
rollback), nodes go one at a time and the task stops at the first node that fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from agent.exceptions import StepError
from agent.step import ActionSpec, ProgressReport, StepContext, StepOutcome
from protocol import Message, TaskAssign, TaskFinished, TaskProgress, TaskResult, TaskStatus

log = logging.getLogger("guardia.agent.task")

Send = Callable[[Message], Awaitable[bool]]
#: (task id, node, progress report) -> the step's context
MakeContext = Callable[[str, str, ProgressReport], StepContext]

MAX_SUMMARY_CHARS = 1000
#: output_tail bytes of all results together, and data bytes (as JSON) of all results
#: together, so that TASK_FINISHED stays below the 1 MiB frame limit
FRAME_OUTPUT_BUDGET = 600 * 1024
FRAME_DATA_BUDGET = 300 * 1024


class NodeGate:
    """At most `max_concurrency` steps at once, and one step at a time per node."""

    def __init__(self, max_concurrency: int) -> None:
        self._slots = asyncio.Semaphore(max_concurrency)
        self._nodes: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @contextlib.asynccontextmanager
    async def hold(self, node: str) -> AsyncIterator[None]:
        async with self._nodes[node], self._slots:
            yield


class TaskExecution:
    def __init__(
        self,
        task: TaskAssign,
        *,
        catalog: Mapping[str, ActionSpec[Any]],
        gate: NodeGate,
        send: Send,
        make_context: MakeContext,
        step_timeout: Callable[[str, Any], float],
    ) -> None:
        self.task = task
        self._catalog = catalog
        self._gate = gate
        self._send = send
        self._make_context = make_context
        self._step_timeout = step_timeout
        count = len(task.steps)
        self.results: list[TaskResult | None] = [None] * count
        self.started: set[int] = set()
        self.timed_out = False
        self._fractions = [0.0] * count

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def nodes(self) -> dict[str, list[int]]:
        """Step indexes per node, nodes in order of first appearance."""
        plan: dict[str, list[int]] = {}
        for index, step in enumerate(self.task.steps):
            plan.setdefault(step.node, []).append(index)
        return plan

    def is_rolling(self) -> bool:
        plan = self.nodes()
        return len(plan) > 1 and any(self._catalog[s.action].rolling for s in self.task.steps)

    async def run(self) -> None:
        plan = self.nodes()
        if self.is_rolling():
            for node, indexes in plan.items():
                if not await self._run_node(indexes):
                    self._skip_unrun(f"not run: rolling stopped after the failure on {node}")
                    return
            return
        async with asyncio.TaskGroup() as group:
            for indexes in plan.values():
                group.create_task(self._run_node(indexes))

    async def _run_node(self, indexes: list[int]) -> bool:
        for position, index in enumerate(indexes):
            if not await self._run_step(index):
                step = self.task.steps[index]
                for later in indexes[position + 1 :]:
                    self._set_unrun(later, f"not run: {step.action} failed on this node")
                return False
        return True

    async def _run_step(self, index: int) -> bool:
        step = self.task.steps[index]
        spec = self._catalog[step.action]
        async with self._gate.hold(step.node):
            self.started.add(index)
            began = time.monotonic()
            await self._progress(index, 0.0, f"{step.action} on {step.node}: started")
            outcome = await self._attempt(index, spec)
            self.results[index] = make_result(
                step.node, step.action, outcome, time.monotonic() - began, spec.output_limit
            )
            verdict = "ok" if outcome.ok else "FAILED"
            await self._progress(
                index,
                1.0,
                f"{step.action} on {step.node}: {verdict}: {outcome.summary}"[:MAX_SUMMARY_CHARS],
            )
        return outcome.ok

    async def _attempt(self, index: int, spec: ActionSpec[Any]) -> StepOutcome:
        step = self.task.steps[index]

        async def report(fraction: float, message: str) -> None:
            await self._progress(index, fraction, message)

        timeout = None
        seconds = 0.0
        try:
            params = spec.parse(step.params)
            seconds = self._step_timeout(step.node, params)
            timeout = asyncio.timeout(seconds)
            async with timeout:
                return await spec.run(self._make_context(self.task_id, step.node, report), params)
        except TimeoutError as exc:
            if timeout is None or not timeout.expired():
                return StepOutcome(False, f"timed out: {exc or 'an operation took too long'}")
            self.timed_out = True
            return StepOutcome(False, f"timed out after {seconds:g} s (step timeout)")
        except StepError as exc:
            return StepOutcome(False, exc.message, exc.exit_code, exc.output, exc.data)
        except Exception as exc:
            log.exception("task %s: %s on %s failed", self.task_id, step.action, step.node)
            return StepOutcome(False, f"agent error: {type(exc).__name__}: {exc}")

    async def _progress(self, index: int, fraction: float, message: str) -> None:
        self._fractions[index] = max(self._fractions[index], min(max(fraction, 0.0), 1.0))
        step = self.task.steps[index]
        overall = sum(self._fractions) / len(self._fractions)
        await self._send(
            TaskProgress(
                task_id=self.task_id,
                step=step.action,
                node=step.node,
                progress=round(overall, 4),
                message=message[:MAX_SUMMARY_CHARS],
            )
        )

    def _set_unrun(self, index: int, summary: str) -> None:
        if self.results[index] is None:
            step = self.task.steps[index]
            self.results[index] = TaskResult(
                node=step.node, action=step.action, ok=False, summary=summary
            )

    def _skip_unrun(self, summary: str) -> None:
        for index in range(len(self.results)):
            self._set_unrun(index, summary)

    def finished(self, *, cancelled: str | None = None) -> TaskFinished:
        """The task's TASK_FINISHED; `cancelled` says why steps still running were stopped."""
        for index in range(len(self.results)):
            if index in self.started:
                self._set_unrun(index, f"cancelled while running: {cancelled or 'stopped'}")
            else:
                self._set_unrun(index, f"not run: {cancelled or 'the task stopped'}")
        results = fit_to_frame([r for r in self.results if r is not None])
        status: TaskStatus
        if cancelled is not None:
            status = "CANCELLED"
        elif self.timed_out:
            status = "TIMED_OUT"
        elif all(r.ok for r in results):
            status = "SUCCEEDED"
        else:
            status = "FAILED"
        good = sum(r.ok for r in results)
        return TaskFinished(
            task_id=self.task_id,
            status=status,
            results=results,
            content=f"{status}: {good} of {len(results)} steps ok",
        )


def make_result(
    node: str, action: str, outcome: StepOutcome, seconds: float, output_limit: int
) -> TaskResult:
    fields: dict[str, Any] = {
        "node": node,
        "action": action,
        "ok": outcome.ok,
        "exit_code": outcome.exit_code,
        "summary": outcome.summary[:MAX_SUMMARY_CHARS],
        "output_tail": tail_bytes(outcome.output, output_limit),
        "duration_ms": max(0, round(seconds * 1000)),
    }
    try:
        return TaskResult(**fields, data=outcome.data)
    except ValidationError as exc:
        # a fact the wire cannot carry (say a huge number) must not cost the result itself
        log.warning("%s on %s: result data dropped: %s", action, node, exc.errors()[0]["msg"])
        return TaskResult(**fields)


def tail_bytes(text: str, limit: int) -> str:
    """The end of `text`, at most `limit` bytes of UTF-8, cut at a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[len(data) - limit :].decode(errors="ignore")


def fit_to_frame(results: list[TaskResult]) -> list[TaskResult]:
    """Shorten every output_tail alike, and every data alike, when together they would not
    fit in one frame."""
    total = sum(len(r.output_tail.encode()) for r in results)
    if total > FRAME_OUTPUT_BUDGET:
        share = FRAME_OUTPUT_BUDGET // max(1, len(results))
        results = [
            r.model_copy(update={"output_tail": tail_bytes(r.output_tail, share)}) for r in results
        ]
    sizes = [data_size(r.data) for r in results]
    if sum(sizes) > FRAME_DATA_BUDGET:
        share = FRAME_DATA_BUDGET // max(1, len(results))
        results = [
            r if size <= share else r.model_copy(update={"data": shrink_data(r.data, share)})
            for r, size in zip(results, sizes, strict=True)
        ]
    return results


def data_size(data: dict[str, Any] | None) -> int:
    return 0 if data is None else len(orjson.dumps(data))


def shrink_data(data: dict[str, Any] | None, limit: int) -> dict[str, Any] | None:
    """`data` within `limit` bytes of JSON: its longest list halved until it fits, marked
    `"truncated": true`; None when no list is left to shorten."""
    if data is None:
        return None
    shrunk = dict(data)
    while data_size(shrunk) > limit:
        lists = [(len(v), k) for k, v in shrunk.items() if isinstance(v, list) and v]
        if not lists:
            return None
        _, key = max(lists)
        shrunk[key] = shrunk[key][: len(shrunk[key]) // 2]
        shrunk["truncated"] = True
    return shrunk
