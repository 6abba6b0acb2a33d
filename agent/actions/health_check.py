"""HEALTH_CHECK: the service's status command, and its health_url when it has one.

The URL is fetched as the node sees it (through the SSH connection for an ssh node), so
`http://127.0.0.1:8080/health` in the config means the node's own loopback.
data: {"service", "url" (or null), "status_code" (the URL's HTTP status, or null),
"healthy", "attempts" (probes made)}.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any
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
    service: str
    url: str | None = None
    status_code: int | None = None
    attempts: int = 1

    def data(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "url": self.url,
            "status_code": self.status_code,
            "healthy": self.ok,
            "attempts": self.attempts,
        }


async def probe(ctx: StepContext, name: str) -> Health:
    """Check once: status command, then the health URL."""
    service = ctx.service(name)
    status = await ctx.transport.run(service.status_command(name))
    summary = f"status {status.first_line()}"
    if not status.ok:
        summary += f" (exit {status.exit_code})"
    ok = status.ok
    code = None
    if service.health_url is not None:
        url_ok, url_summary, code = await probe_url(ctx, service.health_url)
        ok = ok and url_ok
        summary += f"; {url_summary}"
    return Health(ok, summary, status.exit_code, status.output, name, service.health_url, code)


async def probe_url(ctx: StepContext, url: str) -> tuple[bool, str, int | None]:
    """(healthy, what happened, the HTTP status when there was an answer)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(URL_TIMEOUT), ctx.transport.tcp_endpoint(host, port) as end:
            response = await http_get(url, connect_to=end, sink=_discard, max_body=1024**2)
    except TimeoutError:
        return False, f"{url}: no answer within {URL_TIMEOUT:g} s", None
    except TransportError as exc:
        return False, f"{url}: {exc.message}", None
    return response.ok, f"{url}: HTTP {response.status}", response.status


async def _discard(chunk: bytes) -> None:
    """Only the status of a health URL counts."""


async def wait_healthy(ctx: StepContext, name: str, within: float) -> Health:
    """Probe until healthy or `within` seconds have passed; the last probe's verdict."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    attempts = 0
    while True:
        attempts += 1
        health = await probe(ctx, name)
        remaining = deadline - loop.time()
        if health.ok or remaining <= 0:
            return replace(health, attempts=attempts)
        await asyncio.sleep(min(RETRY_INTERVAL, remaining))


async def health_check(ctx: StepContext, params: ServiceParams) -> StepOutcome:
    health = await probe(ctx, params.service)
    verdict = "healthy" if health.ok else "UNHEALTHY"
    return StepOutcome(
        ok=health.ok,
        summary=f"{params.service}: {verdict} ({health.summary})",
        exit_code=health.exit_code,
        output=health.output,
        data=health.data(),
    )


ACTION = ActionSpec("HEALTH_CHECK", ServiceParams, health_check)
