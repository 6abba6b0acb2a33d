"""What an action gets to run one step on one node, and what it gives back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from agent.config import AgentConfig, ServiceConfig
from agent.exceptions import ParamError
from agent.hub_address import HubAddress
from agent.patterns import ServiceName
from agent.transport import Transport

#: (how far this step is, 0..1; a short message for the room)
ProgressReport = Callable[[float, str], Awaitable[None]]

#: output_tail kept per result, unless an action asks for more
DEFAULT_OUTPUT_LIMIT = 4 * 1024


class StepParams(BaseModel):
    """A step's params from the hub. Strict: `"lines": "100"` is refused, not coerced.

    Keys an action does not know are ignored: they never reach a command.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ServiceParams(StepParams):
    """Params of every service action: the service name from the CMDB node."""

    service: ServiceName


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    #: English, for logs and clients that do not read `data`
    summary: str
    exit_code: int | None = None
    output: str = ""
    #: the result's structured facts, in the action's shape (protocol.md, "Result data")
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class StepContext:
    """One step's node, its transport, the config, and where to report progress."""

    node: str
    transport: Transport
    config: AgentConfig
    hub: HubAddress
    task_id: str
    report: ProgressReport

    def scaled(self, start: float, end: float) -> StepContext:
        """The same context, its progress mapped into [start, end] of this step."""
        outer = self.report

        async def report(fraction: float, message: str) -> None:
            await outer(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

        return replace(self, report=report)

    def transfer_report(
        self, start: float, end: float, what: str
    ) -> Callable[[int, int], Awaitable[None]]:
        """A (done, total) callback that reports a transfer every 10% between start and end."""
        last = -1

        async def report(done: int, total: int) -> None:
            nonlocal last
            tenth = 10 if total <= 0 else min(10, done * 10 // total)
            if tenth > last:
                last = tenth
                await self.report(start + (end - start) * tenth / 10, f"{what} {tenth * 10}%")

        return report

    def service(self, name: str) -> ServiceConfig:
        try:
            return self.config.services[name]
        except KeyError:
            raise ParamError(f"service {name!r} is not configured on this agent") from None


P = TypeVar("P", bound=StepParams)


@dataclass(frozen=True)
class ActionSpec(Generic[P]):
    """One entry of the catalog: a code, its params, and the coroutine that does it."""

    code: str
    params: type[P]
    run: Callable[[StepContext, P], Awaitable[StepOutcome]]
    #: with several nodes: one node at a time, stop at the first failure
    rolling: bool = False
    #: ServiceConfig fields the named service must have set (e.g. log_path)
    needs: tuple[str, ...] = ()
    output_limit: int = DEFAULT_OUTPUT_LIMIT

    def parse(self, params: dict[str, Any]) -> P:
        return self.params.model_validate(params)
