"""SERVICE_STATUS: the service's status command (default `systemctl is-active NAME`)."""

from __future__ import annotations

from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome


async def service_status(ctx: StepContext, params: ServiceParams) -> StepOutcome:
    name = params.service
    result = await ctx.transport.run(ctx.service(name).status_command(name))
    summary = f"{name}: {result.first_line()}"
    if not result.ok:
        summary += f" (exit {result.exit_code})"
    return StepOutcome(result.ok, summary, result.exit_code, result.output)


ACTION = ActionSpec("SERVICE_STATUS", ServiceParams, service_status)
