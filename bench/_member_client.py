"""A room member as cheap as it gets: the fan-out bench's load generator holds thousands.

A WebSocket client cut to what a member does: read frames, answer pings, send text. Server
frames are parsed in place; a frame carrying the bench's content marker is counted and timed
straight from its bytes (no JSON decoding), any other frame is decoded and queued.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from typing import Any

import orjson

#: what a timed message's content starts with: "~<run>:<perf_counter_ns at sending>" (then,
#: optionally, a space and a chat line)
MARK = b'"content":"~'


class Collector:
    """Deliveries of the current run: count and latency, straight from the frame bytes."""

    def __init__(self) -> None:
        self.run = -1
        self.received = 0
        self.stale = 0
        self.latencies: list[int] = []
        self.last_ns = 0
        self.own = 0  # deliveries to the sender itself (its window for the "max" step)

    def reset(self, run: int) -> None:
        self.run, self.received, self.stale, self.own = run, 0, 0, 0
        self.latencies = []

    def mark(self, frame: bytes | bytearray, at: int, end: int, now: int, own: bool) -> None:
        close = frame.find(b'"', at, end)
        run, _, sent = bytes(frame[at:close]).partition(b":")
        sent = sent.split(b" ", 1)[0]  # a chat line may follow the mark
        self.last_ns = now
        if int(run) != self.run:
            self.stale += 1
            return
        self.received += 1
        self.latencies.append(now - int(sent))
        if own:
            self.own += 1


class MemberClient(asyncio.Protocol):
    """A WebSocket client cut to what a room member does: read frames, answer pings, send.

    Server frames are parsed in place; a frame carrying the bench's content marker is counted
    and timed without JSON decoding, any other frame is decoded and queued for the caller.
    """

    def __init__(self, collector: Collector, host: str, port: int, token: str) -> None:
        self.collector = collector
        self.request = (
            f"GET /ws/chat HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.is_sender = False
        self._buf = bytearray()
        self._handshaken = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        if not self._handshaken:
            self._buf += data
            head, sep, rest = bytes(self._buf).partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                return
            self._handshaken = True
            self._buf = bytearray()
            self.opened.set_result(None)
            if not rest:
                return
            data = rest
        view: bytes | bytearray = data
        if self._buf:
            self._buf += data
            view = self._buf
        pos, n = 0, len(view)
        while n - pos >= 2:
            length = view[pos + 1] & 0x7F
            header = 2
            if length == 126:
                if n - pos < 4:
                    break
                length, header = int.from_bytes(view[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, header = int.from_bytes(view[pos + 2 : pos + 10], "big"), 10
            end = pos + header + length
            if end > n:
                break
            opcode = view[pos] & 0x0F
            start = pos + header
            if opcode <= 1:  # text (or a continuation: small frames never come in pieces)
                at = view.find(MARK, start, end)
                if at >= 0:
                    self.collector.mark(view, at + len(MARK), end, now, self.is_sender)
                else:
                    self.frames.put_nowait(orjson.loads(bytes(view[start:end])))
            elif opcode == 9:  # ping
                self._write(0xA, bytes(view[start:end]))
            elif opcode == 8 and self.transport is not None:
                self.transport.close()
            pos = end
        self._buf = bytearray(view[pos:]) if pos < n else bytearray()

    def _write(self, opcode: int, payload: bytes) -> None:
        """A masked client frame; the all-zero mask leaves the payload as it is (no XOR)."""
        size = len(payload)
        if size < 126:
            header = bytes((0x80 | opcode, 0x80 | size))
        elif size < 65536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(header + b"\0\0\0\0" + payload)

    def send_text(self, payload: bytes) -> None:
        self._write(0x1, payload)

    def backlog(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    async def expect(self, msg_type: str, timeout: float = 30.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.frames.get()
                if frame.get("msg_type") == msg_type:
                    return frame
                if frame.get("msg_type") == "ERROR":
                    raise RuntimeError(f"server error while waiting for {msg_type}: {frame}")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
