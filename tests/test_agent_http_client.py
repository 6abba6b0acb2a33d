"""The agent's small HTTP/1.1 GET, against raw responses from a loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.exceptions import TransportError
from agent.http_client import http_get

RESPONSES = {
    "/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4\r\nwiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n",
    "/close": b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
    "/big": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100,
    "/short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    "/error": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
    "/garbage": b"SSH-2.0-OpenSSH_9.2\r\n",
}


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[bytes]]]:
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        requests.append(head)
        path = head.split(b" ")[1].decode()
        writer.write(RESPONSES[path.split("?")[0]])
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield listener.sockets[0].getsockname()[1], requests
    listener.close()
    await listener.wait_closed()


@pytest.mark.parametrize(
    ("path", "body"),
    [("/length", b"hello"), ("/chunked", b"wikipedia"), ("/close", b"until the end")],
)
async def test_bodies(server: tuple[int, list[bytes]], path: str, body: bytes) -> None:
    port, requests = server
    response = await http_get(f"http://127.0.0.1:{port}{path}?q=1", headers={"X-A": "b"})
    assert (response.status, response.body, response.ok) == (200, body, True)
    assert requests[0].startswith(f"GET {path}?q=1 HTTP/1.1\r\n".encode())
    assert b"\r\nX-A: b\r\n" in requests[0] and b"\r\nConnection: close\r\n" in requests[0]


async def test_a_sink_takes_the_body_in_chunks(server: tuple[int, list[bytes]]) -> None:
    port, _ = server
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    response = await http_get(f"http://127.0.0.1:{port}/chunked", sink=sink)
    assert b"".join(chunks) == b"wikipedia" and response.body == b""


async def test_an_error_body_never_reaches_the_sink(server: tuple[int, list[bytes]]) -> None:
    port, _ = server
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    response = await http_get(f"http://127.0.0.1:{port}/error", sink=sink, max_body=1)
    assert (response.status, response.reason, response.body) == (503, "Service Unavailable",
                                                                 b"busy")  # fmt: skip
    assert chunks == []


@pytest.mark.parametrize(
    ("path", "words"),
    [("/big", "over the limit"), ("/short", "bytes still to come"),
     ("/garbage", "not an HTTP response")],
)  # fmt: skip
async def test_broken_responses(server: tuple[int, list[bytes]], path: str, words: str) -> None:
    port, _ = server
    with pytest.raises(TransportError, match=words):
        await http_get(f"http://127.0.0.1:{port}{path}", max_body=50)


async def test_refused_connections_and_bad_urls() -> None:
    with pytest.raises(TransportError, match="cannot connect"):
        await http_get("http://127.0.0.1:1/")
    with pytest.raises(TransportError, match="not an http"):
        await http_get("file:///etc/passwd")
    with pytest.raises(TransportError, match="line break"):
        await http_get("http://127.0.0.1:1/", headers={"Authorization": "Bearer x\r\nEvil: 1"})
