"""A small, bounded HTTP/1.1 GET over asyncio streams: health URLs and artifact downloads.

Enough HTTP for a hub and a health endpoint (Content-Length, chunked, or read to close;
http and https), and no more: the agent must not pull in an HTTP library of the hub's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from agent.exceptions import TransportError

BodySink = Callable[[bytes], Awaitable[None]]

_MAX_HEAD_BYTES = 64 * 1024
_MAX_HEADERS = 100
_CHUNK = 64 * 1024
_MAX_ERROR_BODY = 16 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str]
    #: the body, unless a sink took it
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400


async def http_get(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    sink: BodySink | None = None,
    max_body: int = 1024 * 1024,
    connect_to: tuple[str, int] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> HttpResponse:
    """GET `url`; a 2xx body goes to `sink` chunk by chunk, any other into the response.

    `connect_to` dials another address (a forwarded port) while Host and TLS still name the
    URL's host. Callers bound the time with asyncio.timeout. Raises TransportError.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url}")
    secure = parts.scheme == "https"
    host, port = parts.hostname, parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: {parts.netloc}",
        "User-Agent: guardia-agent",
        "Accept: */*",
        "Connection: close",
    ]
    for name, value in (headers or {}).items():
        if any(c in name + value for c in "\r\n\x00"):
            raise TransportError(f"header {name} has a line break")
        lines.append(f"{name}: {value}")
    dial_host, dial_port = connect_to or (host, port)
    try:
        reader, writer = await asyncio.open_connection(
            dial_host,
            dial_port,
            ssl=(ssl_context or ssl.create_default_context()) if secure else None,
            server_hostname=host if secure else None,
            limit=_MAX_HEAD_BYTES,
        )
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"cannot connect to {parts.netloc}: {exc}") from None
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        status, reason, response_headers = await _read_head(reader)
        collected = bytearray()

        async def keep(chunk: bytes) -> None:
            collected.extend(chunk)

        if sink is None:
            await _read_body(reader, response_headers, keep, max_body)
        elif 200 <= status < 300:
            await _read_body(reader, response_headers, sink, max_body)
        else:
            # an error page is kept for the message, never written where the body would go
            with contextlib.suppress(TransportError):
                await _read_body(reader, response_headers, keep, _MAX_ERROR_BODY)
        return HttpResponse(status, reason, response_headers, bytes(collected))
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise TransportError(
            f"GET {parts.netloc}{parts.path}: {exc or type(exc).__name__}"
        ) from None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1):
                await writer.wait_closed()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, str, dict[str, str]]:
    status_line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
    version, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise TransportError(f"not an HTTP response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            return int(code), reason, headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    raise TransportError("too many response headers")


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], sink: BodySink, max_body: int
) -> None:
    received = 0

    async def take(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)
        if received > max_body:
            raise TransportError(f"response body over the limit of {max_body} bytes")
        await sink(chunk)

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = (await reader.readline()).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise TransportError(f"bad chunk size {size_line[:20]!r}") from None
            if size == 0:
                while (await reader.readline()).strip():
                    pass  # trailers
                return
            while size:
                chunk = await reader.readexactly(min(size, _CHUNK))
                size -= len(chunk)
                await take(chunk)
            await reader.readexactly(2)
    elif "content-length" in headers:
        try:
            remaining = int(headers["content-length"])
        except ValueError:
            raise TransportError("bad Content-Length") from None
        if remaining > max_body:
            raise TransportError(f"response body of {remaining} bytes is over the limit")
        while remaining:
            chunk = await reader.read(min(remaining, _CHUNK))
            if not chunk:
                raise TransportError(f"connection closed with {remaining} bytes still to come")
            remaining -= len(chunk)
            await take(chunk)
    else:
        while chunk := await reader.read(_CHUNK):
            await take(chunk)
