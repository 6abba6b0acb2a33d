"""ROLLBACK_DEPLOY: put back the file the last deploy replaced, restart, health-check.

data: {"filename", "restored" (the previous file is back in place; `ok` also needs the
restart and health check to pass)}.
"""

from __future__ import annotations

from agent.actions.restart_service import restart_and_check
from agent.exceptions import StepError
from agent.patterns import FileName
from agent.release import ReleasePaths, restore_previous
from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome


class RollbackParams(ServiceParams):
    filename: FileName


async def rollback_deploy(ctx: StepContext, params: RollbackParams) -> StepOutcome:
    deploy_path = ctx.service(params.service).deploy_path
    assert deploy_path is not None  # checked before the task ran (ActionSpec.needs)
    paths = ReleasePaths.of(deploy_path, params.filename)
    await ctx.report(0.0, f"restoring {paths.previous}")
    try:
        await restore_previous(ctx.transport, paths)
    except StepError as exc:
        exc.data = {"filename": params.filename, "restored": False}
        raise
    outcome = await restart_and_check(ctx.scaled(0.2, 1.0), params.service)
    return StepOutcome(
        outcome.ok,
        f"rolled {paths.target} back to the previous file; {outcome.summary}",
        outcome.exit_code,
        outcome.output,
        {"filename": params.filename, "restored": True},
    )


ACTION = ActionSpec(
    "ROLLBACK_DEPLOY", RollbackParams, rollback_deploy, rolling=True, needs=("deploy_path",)
)
