"""`--metrics-port`: GET /metrics (Prometheus text) and GET /healthz, on 127.0.0.1 only.

The customer's machine decides who may scrape it (a local Prometheus or node exporter's
textfile collector, an SSH tunnel); the agent never listens on another address. A few lines
of asyncio streams instead of prometheus_client's threaded server, so /healthz lives beside
it and the event loop owns everything.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import orjson
from prometheus_client import CONTENT_TYPE_LATEST

from agent.metrics import AgentMetrics

HOST = "127.0.0.1"
#: a request head larger than this, or slower than READ_TIMEOUT, is dropped
MAX_HEAD = 8 * 1024
READ_TIMEOUT = 5.0


class MetricsServer:
    def __init__(self, metrics: AgentMetrics, port: int, link_state: Callable[[], str]) -> None:
        self.metrics = metrics
        self.port = port
        self._link_state = link_state
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self.port, limit=MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                request = await reader.readuntil(b"\r\n\r\n")
            method, _, rest = request.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = rest.partition(" ")[0].partition("?")[0]
            status, kind, body = self._answer(method, path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _answer(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, self.metrics.exposition()
        if path == "/healthz":
            body = orjson.dumps({"status": "ok", "link": self._link_state()})
            return "200 OK", "application/json", body
        return "404 Not Found", "text/plain", b"/metrics or /healthz\n"
