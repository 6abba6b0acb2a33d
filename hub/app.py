"""The Starlette application: routes, and the hub state's life with the app's."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from hub.ops import metrics
from hub.ops.http_metrics import HttpMetrics
from hub.settings import Settings
from hub.state import SERVER_VERSION, HubState
from hub.web import api, artifacts, incidents, intake, mattermost, messenger, ops, probes, slack
from hub.web.address_limit import ConnectionsPerAddress
from hub.web.agent_socket import agent_endpoint
from hub.web.chat_socket import chat_endpoint
from hub.web.security_headers import SecurityHeaders

STATIC = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    if not settings.metrics:
        metrics.disable()
    metrics.BUILD_INFO.labels(SERVER_VERSION).set(1)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = HubState(settings)
        await state.start()
        app.state.hub = state
        try:
            yield
        finally:
            await state.stop()

    routes: list[Route | WebSocketRoute | Mount] = [
        Route("/api/health", probes.health),
        Route("/api/ready", probes.ready),
        Route("/metrics", ops.metrics_endpoint),
        Route("/api/ops/overview", ops.overview),
        Route("/api/rooms", api.rooms),
        Route("/api/rooms/{room_id}/messages", api.room_messages),
        Route("/api/tasks", api.tasks),
        Route("/api/tasks/{task_id}", api.task_detail),
        Route("/api/audit", api.audit_log),
        Route("/api/agent/hub-key", api.hub_key),
        Route("/api/artifacts", artifacts.upload, methods=["POST"]),
        Route("/api/artifacts/{artifact_id}", artifacts.download),
        Route("/api/slack/events", slack.slack_events, methods=["POST"]),
        Route("/api/slack/interactivity", slack.slack_interactivity, methods=["POST"]),
        Route("/api/mattermost/webhook", mattermost.mattermost_webhook, methods=["POST"]),
        Route("/api/mattermost/actions", mattermost.mattermost_actions, methods=["POST"]),
        Route("/api/messenger/webhook", messenger.messenger_webhook, methods=["POST"]),
        Route("/api/intake/alertmanager", intake.alertmanager_intake, methods=["POST"]),
        Route("/api/intake/sentry", intake.sentry_intake, methods=["POST"]),
        Route("/api/intake/event", intake.event_intake, methods=["POST"]),
        Route("/api/incidents", incidents.incidents),
        Route("/api/incidents/{incident_id}", incidents.incident_detail),
        WebSocketRoute("/ws/chat", chat_endpoint),
        WebSocketRoute("/ws/agent", agent_endpoint),
    ]
    if STATIC.is_dir():
        routes.append(Mount("/", StaticFiles(directory=STATIC, html=True), name="static"))
    middleware = [
        Middleware(HttpMetrics),
        Middleware(SecurityHeaders),
        Middleware(ConnectionsPerAddress, limit=settings.max_connections_per_address),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
