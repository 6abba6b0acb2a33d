"""HTTP requests counted by the route that matched, never the raw path: `/api/tasks/{task_id}`
is one series however many tasks there are (pure ASGI: it adds nothing to WebSockets)."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.ops import metrics


def route_of(scope: Scope) -> str:
    """The template of the route Starlette matched; `static` for the web app, `unmatched`."""
    route: Any = scope.get("route")
    if route is None:
        return "unmatched"
    path = getattr(route, "path", "")
    return path or "static"


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            metrics.http_request(
                scope["method"], route_of(scope), status, time.perf_counter() - started
            )
