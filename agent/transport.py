"""How an action reaches its node: run a config command, move files, reach a TCP port.

Two transports implement this: `local` (the agent's own machine) and `ssh` (asyncssh, host
keys checked). Actions are written against Transport only, so each runs on either.
"""

from __future__ import annotations

import abc
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger("guardia.agent.transport")

#: bytes of a command's stdout (and stderr) kept: its tail; the head is dropped
MAX_STDOUT_BYTES = 1024 * 1024
MAX_STDERR_BYTES = 64 * 1024

#: (bytes sent so far, total bytes)
UploadProgress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """stdout then stderr, for a result's output_tail."""
        if self.stdout and self.stderr:
            return f"{self.stdout.rstrip()}\n{self.stderr}"
        return self.stdout or self.stderr

    def first_line(self, default: str = "(no output)") -> str:
        for text in (self.stdout, self.stderr):
            for line in text.splitlines():
                if line.strip():
                    return line.strip()[:200]
        return default

    def last_error_line(self) -> str:
        for text in (self.stderr, self.stdout):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                return lines[-1][:200]
        return "(no output)"


@dataclass(frozen=True)
class FileInfo:
    size: int
    mode: int


class ByteStream(Protocol):
    async def read(self, n: int = -1, /) -> bytes: ...


class TailBuffer:
    """Keeps the last `limit` bytes written to it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self.dropped = 0

    def write(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= self.limit:
            self._size -= len(self._chunks[0])
            self.dropped += len(self._chunks.popleft())

    def text(self) -> str:
        data = b"".join(self._chunks)
        if self._size > self.limit:
            cut = self._size - self.limit
            self.dropped += cut
            data = data[cut:]
        return data.decode("utf-8", errors="replace")

    async def drain(self, stream: ByteStream) -> None:
        while chunk := await stream.read(64 * 1024):
            self.write(chunk)


class Transport(abc.ABC):
    """One node, reached one way. Paths are the node's own absolute paths."""

    def __init__(self, node: str) -> None:
        self.node = node

    @abc.abstractmethod
    async def run(self, command: str, *, stdin: bytes | None = None) -> CommandResult:
        """Run a command line built from the config (never from the hub) on the node."""

    @abc.abstractmethod
    async def upload(self, local: Path, remote: str, progress: UploadProgress) -> None:
        """Copy a local file to `remote` on the node."""

    @abc.abstractmethod
    async def stat(self, path: str) -> FileInfo | None:
        """Size and mode of a file, None when it does not exist."""

    @abc.abstractmethod
    async def chmod(self, path: str, mode: int) -> None: ...

    @abc.abstractmethod
    async def rename(self, source: str, target: str) -> None:
        """Atomically replace `target` with `source` (POSIX rename)."""

    @abc.abstractmethod
    async def link(self, source: str, target: str) -> None:
        """Make `target` a hard link to `source`, replacing any `target`."""

    @abc.abstractmethod
    async def remove(self, path: str) -> None:
        """Remove a file; a missing file is fine."""

    @abc.abstractmethod
    def tcp_endpoint(self, host: str, port: int) -> AbstractAsyncContextManager[tuple[str, int]]:
        """A local (host, port) that reaches `host:port` as the node sees it."""

    @abc.abstractmethod
    def follow(self, path: str, opened: Callable[[], None]) -> AsyncGenerator[str, None]:
        """The lines written to the file at `path` from now on, rotation followed, for ever
        (or until the node is lost: TransportError); `opened` is called once following."""

    async def close(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        return None
