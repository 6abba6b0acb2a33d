"""Following a log file by its path, like `tail -F -n 0`, on the agent's own machine.

Only lines written after the watch starts count (the agent is no log shipper). Rotation is
followed both ways logrotate does it: a rename (another file appears at the path: the rest of
the old one is read, then the new one from its start) and copytruncate (the file shrinks: it
is read again from its start). A file that does not exist yet is waited for and read from its
start when it appears. Polled, not inotify: it works on every file system, containers and NFS
included, at the cost of a quarter second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, Callable
from typing import BinaryIO

#: seconds between two looks at the file
POLL_INTERVAL = 0.25
#: bytes read per look at most, so a flood cannot starve the event loop
MAX_READ = 4 * 1024 * 1024
#: a line longer than this is cut (and its rest read as the next line)
MAX_LINE_BYTES = 64 * 1024


class FileFollower:
    """The synchronous state of one followed path; `poll` returns the new complete lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._position = 0
        self._partial = b""
        #: whether a file that appears at the path is read from its start
        self._from_start = False

    def start(self) -> None:
        """Open the file at its end; a missing file is read from its start once it appears."""
        if not self._open(at_end=True):
            self._from_start = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def poll(self) -> list[str]:
        lines: list[str] = []
        if self._file is None and not self._open(at_end=not self._from_start):
            return lines
        try:
            current = os.stat(self.path)
        except OSError:
            current = None  # renamed away, the new one not there yet: finish the old one
        if current is not None and (current.st_dev, current.st_ino) != self._identity:
            lines += self._read()
            lines += self._flush()
            self.close()
            self._from_start = True
            if not self._open(at_end=False):
                return lines
        elif current is not None and current.st_size < self._position:
            lines += self._flush()
            assert self._file is not None
            self._file.seek(0)
            self._position = 0
        return lines + self._read()

    def _open(self, *, at_end: bool) -> bool:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 (kept open across polls)
        except OSError:
            return False
        info = os.fstat(handle.fileno())
        self._file, self._identity = handle, (info.st_dev, info.st_ino)
        self._position = handle.seek(0, os.SEEK_END) if at_end else 0
        return True

    def _read(self) -> list[str]:
        assert self._file is not None
        data = self._file.read(MAX_READ)
        if not data:
            return []
        self._position += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > MAX_LINE_BYTES:
            complete.append(self._partial[:MAX_LINE_BYTES])
            self._partial = self._partial[MAX_LINE_BYTES:]
        return [_text(line) for line in complete]

    def _flush(self) -> list[str]:
        """A last line without its newline, when the file it was in goes away."""
        partial, self._partial = self._partial, b""
        return [_text(partial)] if partial else []


def _text(line: bytes) -> str:
    return line[:MAX_LINE_BYTES].rstrip(b"\r").decode("utf-8", errors="replace")


async def follow_file(
    path: str, opened: Callable[[], None] = lambda: None, *, interval: float = POLL_INTERVAL
) -> AsyncGenerator[str, None]:
    """New lines of `path`, for ever; `opened` is called once the watch has its start."""
    follower = FileFollower(path)
    try:
        await asyncio.to_thread(follower.start)
        opened()
        while True:
            for line in await asyncio.to_thread(follower.poll):
                yield line
            await asyncio.sleep(interval)
    finally:
        with contextlib.suppress(OSError):
            follower.close()
