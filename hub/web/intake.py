"""The intake endpoints: monitoring and applications post alerts; the answer comes at once.

`202 {"status": "received"|"deduplicated"|"ignored", "alert_id": ...}` when taken in; 401
for no token or a bad signature (nothing stored), 403 for another kind's token, 4xx for a
body that will never be valid (the sender must not retry), 503 only when the database is
unreachable (the sender retries).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import Request
from starlette.responses import Response

from cmdb.integrations import IntegrationPrincipal
from hub.intake import alertmanager, application, sentry
from hub.intake.exceptions import IntakeError
from hub.intake.signals import Signal
from hub.web.http import OrjsonResponse, hub_state, problem

log = logging.getLogger("guardia.hub.intake")

Reader = Callable[[IntegrationPrincipal, Request, bytes], list[Signal]]


def _alertmanager(who: IntegrationPrincipal, request: Request, body: bytes) -> list[Signal]:
    return alertmanager.read_webhook(body, who.kind)


def _sentry(who: IntegrationPrincipal, request: Request, body: bytes) -> list[Signal]:
    return sentry.read_webhook(body, request.headers.get("sentry-hook-resource"), who.name)


def _event(who: IntegrationPrincipal, request: Request, body: bytes) -> list[Signal]:
    return application.read_event(body, request.headers.get("content-type", ""))


async def authenticate_integration(
    request: Request, kinds: Collection[str]
) -> tuple[IntegrationPrincipal, bytes]:
    """The integration (of one of `kinds`) behind a request, and the raw body it signed.

    For any endpoint integrations call (the messenger bridge too). Raises IntakeError:
    answer it with `problem(exc.status, exc.code, exc.message)`.
    """
    return await hub_state(request).integrations.authenticate(request, kinds)


async def _take(request: Request, kinds: frozenset[str], read: Reader) -> Response:
    state = hub_state(request)
    try:
        who, body = await authenticate_integration(request, kinds)
        answer = await state.intake.receive(who, read(who, request, body))
    except IntakeError as exc:
        return problem(exc.status, exc.code, exc.message)
    except (OperationalError, DBAPIError, OSError, TimeoutError) as exc:
        log.warning("intake on %s failed for now: %s", request.url.path, type(exc).__name__)
        response = problem(503, "INTERNAL", "the hub cannot store alerts right now; retry")
        response.headers["Retry-After"] = "5"
        return response
    return OrjsonResponse(answer.json(), status_code=202)


def _endpoint(kinds: frozenset[str], read: Reader) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _take(request, kinds, read)

    return endpoint


alertmanager_intake = _endpoint(frozenset({"alertmanager", "grafana"}), _alertmanager)
sentry_intake = _endpoint(frozenset({"sentry"}), _sentry)
event_intake = _endpoint(frozenset({"event"}), _event)
