"""HEALTH_CHECK: the service's status command, and its health_url when it has one.

The URL is fetched as the node sees it (through the SSH connection for an ssh node), so
`http://127.0.0.1:8080/health` in the config means the node's own loopback.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from agent.exceptions import TransportError
from agent.http_client import http_get
from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome

#: one health URL request, at most
URL_TIMEOUT = 5.0
#: between two probes while waiting for a restarted service
RETRY_INTERVAL = 1.0


@dataclass(frozen=True)
class Health:
    ok: bool
    summary: str
    exit_code: int | None
    output: str


async def probe(ctx: StepContext, name: str) -> Health:
    """Check once: status command, then the health URL."""
    service = ctx.service(name)
    status = await ctx.transport.run(service.status_command(name))
    summary = f"status {status.first_line()}"
    if not status.ok:
        summary += f" (exit {status.exit_code})"
    ok = status.ok
    if service.health_url is not None:
        url_ok, url_summary = await probe_url(ctx, service.health_url)
        ok = ok and url_ok
        summary += f"; {url_summary}"
    return Health(ok, summary, status.exit_code, status.output)


async def probe_url(ctx: StepContext, url: str) -> tuple[bool, str]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(URL_TIMEOUT), ctx.transport.tcp_endpoint(host, port) as end:
            response = await http_get(url, connect_to=end, sink=_discard, max_body=1024**2)
    except TimeoutError:
        return False, f"{url}: no answer within {URL_TIMEOUT:g} s"
    except TransportError as exc:
        return False, f"{url}: {exc.message}"
    return response.ok, f"{url}: HTTP {response.status}"


async def _discard(chunk: bytes) -> None:
    """Only the status of a health URL counts."""


async def wait_healthy(ctx: StepContext, name: str, within: float) -> Health:
    """Probe until healthy or `within` seconds have passed; the last probe's verdict."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        health = await probe(ctx, name)
        remaining = deadline - loop.time()
        if health.ok or remaining <= 0:
            return health
        await asyncio.sleep(min(RETRY_INTERVAL, remaining))


async def health_check(ctx: StepContext, params: ServiceParams) -> StepOutcome:
    health = await probe(ctx, params.service)
    verdict = "healthy" if health.ok else "UNHEALTHY"
    return StepOutcome(
        ok=health.ok,
        summary=f"{params.service}: {verdict} ({health.summary})",
        exit_code=health.exit_code,
        output=health.output,
    )


ACTION = ActionSpec("HEALTH_CHECK", ServiceParams, health_check)
