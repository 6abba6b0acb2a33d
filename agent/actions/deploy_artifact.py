"""DEPLOY_ARTIFACT: fetch from the hub, check, upload beside the target, swap, restart,
health-check; a failed restart or health check rolls back by itself.

Rolling: on several nodes, one node at a time, stopping at the first failure.
data: {"filename", "sha256", "size", "path" (the target on the node), "rolled_back" (a
failed deploy was undone: the previous file put back, or a first deploy removed)}.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from agent.actions.restart_service import restart_and_check
from agent.artifact import fetch_artifact
from agent.exceptions import StepError
from agent.patterns import ArtifactId, BearerToken, FileName, Sha256
from agent.release import ReleasePaths, install_release, remove_release, restore_previous
from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome


class DeployParams(ServiceParams):
    artifact_id: ArtifactId
    filename: FileName
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]
    #: good for this task only; never logged, never stored in the outbox
    fetch_token: Annotated[BearerToken, Field(repr=False)]


async def deploy_artifact(ctx: StepContext, params: DeployParams) -> StepOutcome:
    deploy_path = ctx.service(params.service).deploy_path
    assert deploy_path is not None  # checked before the task ran (ActionSpec.needs)
    paths = ReleasePaths.of(deploy_path, params.filename)
    data: dict[str, Any] = {
        "filename": params.filename,
        "sha256": params.sha256,
        "size": params.size,
        "path": paths.target,
        "rolled_back": False,
    }
    try:
        return await _deploy(ctx, params, paths, data)
    except StepError as exc:
        exc.data = data  # what the step knew when it failed
        raise


async def _deploy(
    ctx: StepContext, params: DeployParams, paths: ReleasePaths, data: dict[str, Any]
) -> StepOutcome:
    name = params.service
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="guardia-artifact-"))
    try:
        local = workdir / params.filename
        await ctx.report(0.0, f"fetching {params.filename} ({params.size} bytes)")
        await fetch_artifact(
            ctx.hub.artifact_url(params.artifact_id),
            params.fetch_token,
            size=params.size,
            sha256=params.sha256,
            dest=local,
            max_bytes=ctx.config.max_artifact_bytes,
            progress=ctx.transfer_report(0.0, 0.3, f"fetched {params.filename}"),
        )
        had_previous = await install_release(
            ctx.transport,
            paths,
            local,
            params.size,
            ctx.transfer_report(0.3, 0.7, f"uploaded {params.filename}"),
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)
    await ctx.report(0.7, f"{paths.target} swapped in; restarting {name}")
    outcome = await restart_and_check(ctx.scaled(0.7, 0.9), name)
    deployed = f"{params.filename} ({params.size} bytes, sha256 {params.sha256[:12]})"
    if outcome.ok:
        return StepOutcome(
            True,
            f"deployed {deployed} to {paths.target}; {outcome.summary}",
            outcome.exit_code,
            outcome.output,
            data,
        )
    await ctx.report(0.9, f"{name} failed after the deploy; rolling back")
    if had_previous:
        await restore_previous(ctx.transport, paths)
        undone = "rolled back to the previous file"
    else:
        await remove_release(ctx.transport, paths)
        undone = f"removed {paths.target} (there was no previous file)"
    data["rolled_back"] = True
    after = await restart_and_check(ctx.scaled(0.9, 1.0), name)
    return StepOutcome(
        False,
        f"deploy of {deployed} failed: {outcome.summary}; {undone}; {after.summary}",
        outcome.exit_code,
        "\n".join(text for text in (outcome.output, after.output) if text),
        data,
    )


ACTION = ActionSpec(
    "DEPLOY_ARTIFACT", DeployParams, deploy_artifact, rolling=True, needs=("deploy_path",)
)
