"""The files of a deployed release on a node: the target, the kept previous one, the upload.

    <deploy_path>/<name>                  what the service runs
    <deploy_path>/<name>.guardia-prev     the file it ran before the last deploy
    <deploy_path>/.<name>.guardia-new     an upload in flight (never a name an app server
                                          picks up: it does not end in .war/.jar)

The swap is a hard link of the old file to .guardia-prev, then one rename of the upload
over the target: at every instant the target is either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import posixpath
from dataclasses import dataclass
from pathlib import Path

from agent.exceptions import StepError, TransportError
from agent.transport import Transport, UploadProgress


@dataclass(frozen=True)
class ReleasePaths:
    target: str
    previous: str
    incoming: str

    @classmethod
    def of(cls, deploy_path: str, filename: str) -> ReleasePaths:
        target = posixpath.join(deploy_path, filename)
        return cls(
            target=target,
            previous=f"{target}.guardia-prev",
            incoming=posixpath.join(deploy_path, f".{filename}.guardia-new"),
        )


async def install_release(
    transport: Transport, paths: ReleasePaths, local: Path, size: int, progress: UploadProgress
) -> bool:
    """Upload `local` beside the target, keep the current file, swap. True when there was a
    current file (now kept as the previous one)."""
    try:
        await transport.upload(local, paths.incoming, progress)
        uploaded = await transport.stat(paths.incoming)
        if uploaded is None or uploaded.size != size:
            got = "nothing" if uploaded is None else f"{uploaded.size} bytes"
            raise TransportError(f"upload to {paths.incoming} left {got}, expected {size} bytes")
        current = await transport.stat(paths.target)
        if current is not None:
            await transport.chmod(paths.incoming, current.mode)
            await transport.link(paths.target, paths.previous)
        await transport.rename(paths.incoming, paths.target)
    except BaseException:
        with contextlib.suppress(Exception):
            await transport.remove(paths.incoming)
        raise
    return current is not None


async def restore_previous(transport: Transport, paths: ReleasePaths) -> None:
    """Put the kept previous file back in place (it stays kept: a rollback can be repeated)."""
    if await transport.stat(paths.previous) is None:
        raise StepError(f"no previous file to roll back to: {paths.previous} does not exist")
    await transport.link(paths.previous, paths.incoming)
    await transport.rename(paths.incoming, paths.target)


async def remove_release(transport: Transport, paths: ReleasePaths) -> None:
    """Undo a first deploy (there was no previous file): the target goes away."""
    await transport.remove(paths.target)
