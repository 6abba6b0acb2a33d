"""Who is connecting: a bearer token at the handshake, or a first-frame AUTH within a limit.

Identity comes from the token alone (protocol.md). The wrong kind of token for the endpoint
closes 4403; anything else that is not a valid token closes 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.websockets import WebSocket, WebSocketDisconnect

from cmdb.accounts import Identity, identify
from hub.ops import metrics
from hub.settings import Settings
from hub.wire.connection import Connection, SendLimits
from protocol import Auth, CloseCode, ProtocolError, decode

_KIND_ENDPOINT = {"user": "/ws/chat", "agent": "/ws/agent"}


def bearer_token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def _first_frame_token(websocket: WebSocket, timeout: float) -> str | None:
    try:
        async with asyncio.timeout(timeout):
            message = await websocket.receive()
    except (TimeoutError, WebSocketDisconnect):
        return None
    text = message.get("text")
    if message["type"] != "websocket.receive" or text is None:
        return None
    try:
        frame = decode(text, {"AUTH": Auth})
    except ProtocolError:
        return None
    assert isinstance(frame, Auth)
    return frame.token


async def authenticate(
    websocket: WebSocket,
    sessions: async_sessionmaker[AsyncSession],
    auth_timeout: float,
    kind: str,
) -> Identity | None:
    """Accept the socket and establish who it is; closes it and returns None if it can't."""
    await websocket.accept()
    token = bearer_token(websocket)
    if token is None:
        token = await _first_frame_token(websocket, auth_timeout)
    identity = None
    if token is not None:
        async with sessions() as session:
            identity = await identify(session, token)
    if identity is None:
        metrics.auth_rejected(metrics.endpoint(kind), "missing" if token is None else "invalid")
        await _close(websocket, CloseCode.NOT_AUTHENTICATED, "not authenticated")
        return None
    if identity.kind != kind:
        metrics.auth_rejected(metrics.endpoint(kind), "wrong_kind")
        where = _KIND_ENDPOINT[identity.kind]
        await _close(websocket, CloseCode.WRONG_TOKEN_KIND, f"{identity.kind} tokens go to {where}")
        return None
    return identity


async def open_connection(
    websocket: WebSocket,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    kind: str,
) -> Connection | None:
    """Authenticate a socket and give it a bounded send queue; None if it was refused."""
    identity = await authenticate(websocket, sessions, settings.auth_timeout, kind)
    if identity is None:
        return None
    limits = SendLimits(settings.send_queue_bytes, settings.send_queue_frames)
    return Connection(websocket, identity, limits, session_id=uuid.uuid4().hex)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code, reason)
