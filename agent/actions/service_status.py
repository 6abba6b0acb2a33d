"""SERVICE_STATUS: the service's status command (default `systemctl is-active NAME`).

data: {"service", "state" (the command's first line, e.g. "active"), "healthy" (exit 0)}.
"""

from __future__ import annotations

from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome


async def service_status(ctx: StepContext, params: ServiceParams) -> StepOutcome:
    name = params.service
    result = await ctx.transport.run(ctx.service(name).status_command(name))
    state = result.first_line(default="")
    summary = f"{name}: {state or '(no output)'}"
    if not result.ok:
        summary += f" (exit {result.exit_code})"
    data = {"service": name, "state": state, "healthy": result.ok}
    return StepOutcome(result.ok, summary, result.exit_code, result.output, data)


ACTION = ActionSpec("SERVICE_STATUS", ServiceParams, service_status)
