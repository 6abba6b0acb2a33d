"""Liveness and readiness, for Docker, Kubernetes and load balancers.

- `GET /api/health` (liveness): the process answers. It does not touch the database, so a
  database outage does not make an orchestrator restart hubs that would recover by themselves.
- `GET /api/ready` (readiness): 200 only when every backing service this hub is configured
  with answers within `CHECK_TIMEOUT`: the database, Redis (`GUARDIA_REDIS_URL`) and chromadb
  (`GUARDIA_CHROMA_URL`, when the setting exists and is set); else 503 naming what is down.
  Only exception class names go out (the endpoint is unauthenticated); the details are logged
  once per change of state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from hub.state import SERVER_VERSION, HubState
from hub.web.http import OrjsonResponse, hub_state

log = logging.getLogger("guardia.hub.probes")

CHECK_TIMEOUT = 2.0
Check = Callable[[], Awaitable[None]]
#: the last answer of each check, so an outage is logged when it starts and when it ends
_last_state: dict[str, bool] = {}


async def health(request: Request) -> Response:
    state = hub_state(request)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            agents = await state.agents.online()
    except Exception:  # Redis down: this hub's own links still answer the question
        agents = state.links.online()
    return OrjsonResponse(
        {
            "status": "ok",
            "version": SERVER_VERSION,
            "agents_online": agents,
            "suggest": state.proactive.health(),
        }
    )


def _checks(state: HubState) -> dict[str, Check]:
    async def database() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    checks: dict[str, Check] = {"database": database}
    backplane = state.backplane
    if backplane is not None:
        checks["redis"] = backplane.ping
    chroma_url = getattr(state.settings, "chroma_url", None)
    if chroma_url:

        async def chromadb() -> None:
            async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
                for path in ("/api/v2/heartbeat", "/api/v1/heartbeat"):
                    response = await client.get(str(chroma_url).rstrip("/") + path)
                    if response.status_code != 404:
                        response.raise_for_status()
                        return
                response.raise_for_status()

        checks["chromadb"] = chromadb
    return checks


async def _outcome(name: str, check: Check) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check()
    except Exception as exc:
        if _last_state.get(name, True):
            log.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
        _last_state[name] = False
        return "TimeoutError" if isinstance(exc, TimeoutError) else type(exc).__name__
    if not _last_state.get(name, True):
        log.warning("readiness: %s is back", name)
    _last_state[name] = True
    return "ok"


async def ready(request: Request) -> Response:
    checks = _checks(hub_state(request))
    outcomes = await asyncio.gather(*(_outcome(n, c) for n, c in checks.items()))
    results = dict(zip(checks, outcomes, strict=True))
    down = sorted(name for name, outcome in results.items() if outcome != "ok")
    if down:
        return OrjsonResponse(
            {"status": "unavailable", "down": down, "checks": results}, status_code=503
        )
    return OrjsonResponse({"status": "ready", "checks": results})
