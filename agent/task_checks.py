"""Whether a TASK_ASSIGN may run here, as pure code: the signature, the agent it is signed
for, the deadline, and each step's action, node, params and service against the catalog and
the config.

A refused task is answered with TASK_FINISHED FAILED whose results say, per step, why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from agent.config import AgentConfig
from agent.step import ActionSpec, ServiceParams
from protocol import SignatureError, TaskAssign, TaskFinished, TaskResult, TaskStep
from protocol.codec import describe_validation_error
from protocol.signing import verify_task


def parse_deadline(text: str) -> datetime | None:
    """An ISO-8601 time with a zone (protocol.md writes UTC with Z); None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class TaskChecker:
    config: AgentConfig
    catalog: Mapping[str, ActionSpec[Any]]
    #: the hub's pinned public key: every task must be signed with it
    hub_key: Ed25519PublicKey
    #: this agent's id: a task signed for another agent is refused
    agent_id: str

    def refusal(self, task: TaskAssign, now: datetime) -> TaskFinished | None:
        """The TASK_FINISHED that refuses `task`, or None when it may run."""
        reason = self.task_reason(task, now)
        if reason is not None:
            return refused(task, [f"refused: {reason}"] * len(task.steps), reason)
        reasons = [self.step_reason(step) for step in task.steps]
        first = next((i for i, r in enumerate(reasons) if r is not None), None)
        if first is None:
            return None
        bad = task.steps[first]
        others = f"not run: step {first + 1} ({bad.action} on {bad.node}) was refused"
        summaries = [others if r is None else f"refused: {r}" for r in reasons]
        return refused(task, summaries, reasons[first] or others)

    def task_reason(self, task: TaskAssign, now: datetime) -> str | None:
        try:
            verify_task(task, self.hub_key)
        except SignatureError as exc:
            return f"signature refused: {exc}"
        if task.agent_id != self.agent_id:
            meant = "no agent" if task.agent_id is None else f"agent {task.agent_id}"
            return f"the task is signed for {meant}, not for this agent ({self.agent_id})"
        deadline = parse_deadline(task.deadline)
        if deadline is None:
            return f"deadline {task.deadline!r} is not an ISO-8601 UTC time"
        if deadline <= now:
            return f"deadline {task.deadline} has passed"
        if not task.steps:
            return "the task has no steps"
        return None

    def step_reason(self, step: TaskStep) -> str | None:
        spec = self.catalog.get(step.action)
        if spec is None:
            return f"unknown action {step.action}: not in this agent's catalog"
        if self.config.actions is not None and step.action not in self.config.actions:
            return f"action {step.action} is not allowed on this agent (actions: in agent.yaml)"
        if step.node not in self.config.nodes:
            return f"node {step.node} is not served by this agent (not in its agent.yaml)"
        try:
            params = spec.parse(step.params)
        except ValidationError as exc:
            return f"bad params for {step.action}: {describe_validation_error(exc)}"
        if isinstance(params, ServiceParams):
            service = self.config.services.get(params.service)
            if service is None:
                return (
                    f"service {params.service!r} is not configured on this agent "
                    "(services: in agent.yaml)"
                )
            for field in spec.needs:
                if getattr(service, field) is None:
                    return f"service {params.service!r} has no {field} in agent.yaml"
        return None


def refused(task: TaskAssign, summaries: list[str], reason: str) -> TaskFinished:
    results = [
        TaskResult(node=step.node, action=step.action, ok=False, summary=summary)
        for step, summary in zip(task.steps, summaries, strict=True)
    ]
    return TaskFinished(
        task_id=task.task_id, status="FAILED", results=results, content=f"refused: {reason}"
    )
