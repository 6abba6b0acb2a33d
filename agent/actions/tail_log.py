"""TAIL_LOG: the last lines of the service's log_path (default 100, at most 1000).

data: {"path", "lines" (how many came back)}; the text itself is the output_tail.
"""

from __future__ import annotations

import shlex
from typing import Annotated

from pydantic import Field

from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome

MAX_LINES = 1000


class TailParams(ServiceParams):
    lines: Annotated[int, Field(ge=1, le=MAX_LINES)] = 100


async def tail_log(ctx: StepContext, params: TailParams) -> StepOutcome:
    path = ctx.service(params.service).log_path
    assert path is not None  # checked before the task ran (ActionSpec.needs)
    result = await ctx.transport.run(f"tail -n {params.lines:d} -- {shlex.quote(path)}")
    if not result.ok:
        return StepOutcome(
            False,
            f"cannot read {path}: {result.last_error_line()}",
            result.exit_code,
            result.output,
            {"path": path, "lines": 0},
        )
    count = len(result.stdout.splitlines())
    return StepOutcome(
        True,
        f"last {count} lines of {path}",
        result.exit_code,
        result.stdout,
        {"path": path, "lines": count},
    )


ACTION = ActionSpec("TAIL_LOG", TailParams, tail_log, needs=("log_path",), output_limit=128 * 1024)
