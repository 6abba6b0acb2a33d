"""RESTART_SERVICE: the service's restart command, then a health check that may wait.

Rolling: on several nodes, one node at a time, stopping at the first failure.
data: {"service", "restarted" (the restart command succeeded; `ok` also needs the health
check to pass)}.
"""

from __future__ import annotations

from agent.actions.health_check import wait_healthy
from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome


async def restart_and_check(ctx: StepContext, name: str) -> StepOutcome:
    """Restart `name` and wait for it to be healthy; shared by deploy and rollback."""
    service = ctx.service(name)
    await ctx.report(0.1, f"restarting {name}")
    result = await ctx.transport.run(service.restart_command(name))
    if not result.ok:
        return StepOutcome(
            ok=False,
            summary=f"{name}: restart failed (exit {result.exit_code}): {result.last_error_line()}",
            exit_code=result.exit_code,
            output=result.output,
            data={"service": name, "restarted": False},
        )
    await ctx.report(0.5, f"{name} restarted; health check")
    health = await wait_healthy(ctx, name, service.health_timeout)
    verdict = "healthy" if health.ok else "UNHEALTHY"
    output = "\n".join(text for text in (result.output, health.output) if text)
    return StepOutcome(
        ok=health.ok,
        summary=f"{name}: restarted; {verdict} ({health.summary})",
        exit_code=result.exit_code,
        output=output,
        data={"service": name, "restarted": True},
    )


async def restart_service(ctx: StepContext, params: ServiceParams) -> StepOutcome:
    return await restart_and_check(ctx, params.service)


ACTION = ActionSpec("RESTART_SERVICE", ServiceParams, restart_service, rolling=True)
