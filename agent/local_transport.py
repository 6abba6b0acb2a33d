"""The `local` transport: the node is the agent's own machine."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

from agent.exceptions import TransportError
from agent.log_follow import follow_file
from agent.transport import (
    MAX_STDERR_BYTES,
    MAX_STDOUT_BYTES,
    CommandResult,
    FileInfo,
    TailBuffer,
    Transport,
    UploadProgress,
)

_COPY_CHUNK = 1024 * 1024


class LocalTransport(Transport):
    async def run(self, command: str, *, stdin: bytes | None = None) -> CommandResult:
        try:
            process = await asyncio.create_subprocess_shell(
                command,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # its own process group, so a timeout or cancel kills what it started too
                start_new_session=True,
            )
        except OSError as exc:
            raise TransportError(f"cannot start a command on {self.node}: {exc}") from None
        out, err = TailBuffer(MAX_STDOUT_BYTES), TailBuffer(MAX_STDERR_BYTES)
        assert process.stdout is not None and process.stderr is not None
        try:
            await asyncio.gather(
                out.drain(process.stdout), err.drain(process.stderr), _feed(process, stdin)
            )
            exit_code = await process.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await asyncio.shield(process.wait())
            raise
        return CommandResult(exit_code, out.text(), err.text())

    async def upload(self, local: Path, remote: str, progress: UploadProgress) -> None:
        sent = 0
        try:
            source = await asyncio.to_thread(local.open, "rb")
            with source, await asyncio.to_thread(Path(remote).open, "wb") as target:
                total = os.fstat(source.fileno()).st_size
                while copied := await asyncio.to_thread(_copy_chunk, source, target):
                    sent += copied
                    await progress(sent, total)
        except OSError as exc:
            raise TransportError(f"cannot write {remote} on {self.node}: {exc.strerror}") from None

    async def stat(self, path: str) -> FileInfo | None:
        try:
            info = await asyncio.to_thread(os.stat, path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TransportError(f"cannot stat {path} on {self.node}: {exc.strerror}") from None
        return FileInfo(size=info.st_size, mode=info.st_mode & 0o7777)

    async def chmod(self, path: str, mode: int) -> None:
        await self._file_op("chmod", os.chmod, path, mode)

    async def rename(self, source: str, target: str) -> None:
        await self._file_op("rename", os.replace, source, target)

    async def link(self, source: str, target: str) -> None:
        await self.remove(target)
        try:
            await asyncio.to_thread(os.link, source, target)
        except OSError:
            # a file system without hard links: a copy keeps the previous file all the same
            await self._file_op("copy", shutil.copy2, source, target)

    async def remove(self, path: str) -> None:
        try:
            await asyncio.to_thread(os.unlink, path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TransportError(f"cannot remove {path} on {self.node}: {exc.strerror}") from None

    @contextlib.asynccontextmanager
    async def tcp_endpoint(self, host: str, port: int) -> AsyncIterator[tuple[str, int]]:
        yield host, port

    def follow(self, path: str, opened: Callable[[], None]) -> AsyncGenerator[str, None]:
        return follow_file(path, opened)

    async def _file_op(self, what: str, fn: Callable[..., object], *args: object) -> None:
        try:
            await asyncio.to_thread(fn, *args)
        except OSError as exc:
            raise TransportError(
                f"{what} {' '.join(map(str, args))} failed on {self.node}: {exc.strerror}"
            ) from None


def _copy_chunk(source: BinaryIO, target: BinaryIO) -> int:
    chunk = source.read(_COPY_CHUNK)
    target.write(chunk)
    return len(chunk)


async def _feed(process: asyncio.subprocess.Process, data: bytes | None) -> None:
    if data is None or process.stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(data)
        await process.stdin.drain()
    process.stdin.close()
