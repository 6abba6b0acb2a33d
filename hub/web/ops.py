"""`GET /metrics` for Prometheus, and `GET /api/ops/overview` for the operations view."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import Response

from hub.exceptions import Forbidden
from hub.ops import metrics, scrape
from hub.web.http import OrjsonResponse, current_user, hub_state, int_param, problem

log = logging.getLogger("guardia.hub.ops")


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_endpoint(request: Request) -> Response:
    """The exposition format. With GUARDIA_METRICS_TOKEN set, only to that bearer token;
    without it, only to clients on loopback (behind nginx: the forwarded address counts)."""
    state = hub_state(request)
    expected = state.settings.metrics_token
    if expected is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.get_secret_value().encode()
        ):
            metrics.auth_rejected("metrics", "invalid" if given else "missing")
            return problem(401, "UNAUTHENTICATED", "the metrics bearer token is required")
    elif not _loopback(request):
        return problem(403, "FORBIDDEN", "set GUARDIA_METRICS_TOKEN to scrape from elsewhere")
    try:
        await scrape.refresh(state.sessions, state.links)
    except Exception as exc:  # the rest of the metrics still tell what is wrong
        log.warning("metrics: the database gauges were not refreshed: %s", exc)
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


async def overview(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    try:
        hours = int_param(request, "hours", 6, 1, 48)
        bucket_minutes = int_param(request, "bucket_minutes", 10, 1, 60)
    except ValueError as exc:
        return problem(400, "BAD_FRAME", str(exc))
    try:
        body = await hub_state(request).overview.read(
            identity, hours=hours, bucket_seconds=bucket_minutes * 60
        )
    except Forbidden as exc:
        return problem(403, "FORBIDDEN", exc.message)
    return OrjsonResponse(body)
