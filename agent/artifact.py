"""Fetch a deploy artifact from the hub into a local file, checking its size and sha256."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from agent.exceptions import ArtifactError, TransportError
from agent.http_client import http_get

#: one artifact download, at most (a 1 GiB file at 10 MB/s, with room)
FETCH_TIMEOUT = 600.0

_STATUS_HINTS = {
    401: "the task's fetch token was refused",
    403: "the task's fetch token does not cover this artifact",
    404: "the hub has no such artifact",
}


async def fetch_artifact(
    url: str,
    token: str,
    *,
    size: int,
    sha256: str,
    dest: Path,
    max_bytes: int,
    progress: Callable[[int, int], Awaitable[None]],
) -> None:
    """Stream `url` into `dest`; raise ArtifactError unless it is exactly `size` bytes with
    that sha256. The token goes in the Authorization header and nowhere else."""
    if size > max_bytes:
        raise ArtifactError(
            f"the artifact has {size} bytes, over this agent's limit of {max_bytes} "
            "(max_artifact_bytes in agent.yaml)"
        )
    digest = hashlib.sha256()
    received = 0
    file = await asyncio.to_thread(dest.open, "wb")

    def write(chunk: bytes) -> None:
        digest.update(chunk)
        file.write(chunk)

    async def sink(chunk: bytes) -> None:
        nonlocal received
        await asyncio.to_thread(write, chunk)
        received += len(chunk)
        await progress(received, size)

    try:
        async with asyncio.timeout(FETCH_TIMEOUT):
            response = await http_get(
                url, headers={"Authorization": f"Bearer {token}"}, sink=sink, max_body=size
            )
    except TimeoutError:
        raise ArtifactError(f"artifact download took over {FETCH_TIMEOUT:g} s") from None
    except TransportError as exc:
        raise ArtifactError(f"artifact download failed: {exc.message}") from None
    finally:
        await asyncio.to_thread(_close, file)
    if response.status != 200:
        hint = _STATUS_HINTS.get(response.status, response.reason)
        raise ArtifactError(f"artifact download: the hub answered HTTP {response.status} ({hint})")
    if received != size:
        raise ArtifactError(f"artifact download: got {received} bytes, the task says {size}")
    if digest.hexdigest() != sha256.lower():
        raise ArtifactError(
            f"artifact sha256 mismatch: got {digest.hexdigest()}, the task says {sha256.lower()}"
        )


def _close(file: BinaryIO) -> None:
    file.close()
