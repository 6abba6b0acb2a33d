"""What every REST endpoint shares: JSON answers, problems, query parameters, the caller."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cmdb.accounts import Identity, identify
from hub.ops import metrics
from hub.state import HubState


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(status: int, code: str, message: str) -> Response:
    return OrjsonResponse({"code": code, "message": message}, status_code=status)


def hub_state(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state


async def current_user(request: Request) -> Identity | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    async with hub_state(request).sessions() as session:
        identity = await identify(session, token.strip())
    if identity is None or identity.kind != "user":
        metrics.auth_rejected("http", "invalid" if identity is None else "wrong_kind")
        return None
    return identity


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = int(raw)  # ValueError becomes a 400 in the caller
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value
