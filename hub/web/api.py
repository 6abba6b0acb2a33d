"""The REST side: health, rooms and their history (for the web app), tasks, audit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response

from cmdb.accounts import Identity, identify, may_join
from cmdb.grants import Grant
from cmdb.message_log import MAX_PAGE, replay
from cmdb.tables import AuditEvent, Room, Task, TaskEvent
from hub.commands.authorization import roles_in_scope
from hub.state import SERVER_VERSION
from hub.web.http import OrjsonResponse, current_user, hub_state, int_param, problem
from protocol.signing import public_key_to_pem


async def health(request: Request) -> Response:
    state = hub_state(request)
    try:
        async with state.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return OrjsonResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return OrjsonResponse(
        {
            "status": "ok",
            "version": SERVER_VERSION,
            "agents_online": await state.agents.online(),
            "suggest": state.proactive.health(),
        }
    )


async def rooms(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    async with hub_state(request).sessions() as session:
        all_rooms = list(await session.exec(select(Room).order_by(col(Room.id))))
    return OrjsonResponse(
        [
            {"id": r.id, "name": r.name, "scope": r.scope, "last_seq": r.last_seq}
            for r in all_rooms
            if may_join(identity, r)
        ]
    )


async def room_messages(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    room_id = request.path_params["room_id"]
    try:
        after_seq = int_param(request, "after_seq", 0, 0, 2**62)
        limit = int_param(request, "limit", 100, 1, MAX_PAGE)
    except ValueError as exc:
        return problem(400, "BAD_FRAME", str(exc))
    async with hub_state(request).sessions() as session:
        room = await session.get(Room, room_id)
        if room is None:
            return problem(404, "UNKNOWN_ROOM", f"no room {room_id}")
        if not may_join(identity, room):
            return problem(403, "FORBIDDEN", f"no role in the scope of room {room_id}")
        frames = await replay(session, room_id, after_seq, limit)
    # stored frames are JSON already: join them instead of decoding and re-encoding
    return Response("[" + ",".join(frames) + "]", media_type="application/json")


#: step parameters a reader may see; anything else (fetch tokens, future secrets) stays in
#: the hub: a parameter is hidden unless it is named here
PUBLIC_STEP_PARAMS = frozenset({"service", "lines", "filename", "sha256", "size", "artifact_id"})


def public_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **step,
            "params": {
                k: v for k, v in (step.get("params") or {}).items() if k in PUBLIC_STEP_PARAMS
            },
        }
        for step in steps
    ]


def task_json(task: Task, events: list[TaskEvent] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": task.id,
        "room_id": task.room_id,
        "requested_by": task.requested_by,
        "agent_id": task.agent_id,
        "status": task.status,
        "plan": task.plan,
        "steps": public_steps(task.steps),
        "approved_by": task.approved_by,
        "results": task.results,
        "created_at": task.created_at.isoformat(),
        "updated_at": task.updated_at.isoformat(),
    }
    if events is not None:
        out["history"] = [
            {"from": e.from_status, "to": e.to_status, "cause": e.cause, "at": e.at.isoformat()}
            for e in events
        ]
    return out


def _may_see(identity: Identity, task: Task) -> bool:
    if identity.name == task.requested_by:
        return True
    plan = task.plan or {}
    return bool(roles_in_scope(identity, plan.get("institution"), plan.get("system_name")))


async def tasks(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    try:
        limit = int_param(request, "limit", 50, 1, 500)
    except ValueError as exc:
        return problem(400, "BAD_FRAME", str(exc))
    query = select(Task).order_by(col(Task.created_at).desc())
    if room_id := request.query_params.get("room_id"):
        query = query.where(Task.room_id == room_id)
    if status := request.query_params.get("status"):
        query = query.where(Task.status == status.upper())
    async with hub_state(request).sessions() as session:
        rows = list(await session.exec(query.limit(limit * 4)))
    visible = [task_json(t) for t in rows if _may_see(identity, t)][:limit]
    return OrjsonResponse(visible)


async def audit_log(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    admin_grants = [g for g in identity.grants if g.role == "admin"]
    if not admin_grants:
        return problem(403, "FORBIDDEN", "the audit log is for admins")
    try:
        after = int_param(request, "after", 0, 0, 2**62)
        limit = int_param(request, "limit", 100, 1, 1000)
    except ValueError as exc:
        return problem(400, "BAD_FRAME", str(exc))
    async with hub_state(request).sessions() as session:
        query = select(AuditEvent).where(AuditEvent.seq > after)
        if not any(g.institution is None for g in admin_grants):
            # a scoped admin reads the entries of their scopes only
            query = query.where(sa.or_(*(_scope_filter(g) for g in admin_grants)))
        rows = await session.exec(query.order_by(col(AuditEvent.seq)).limit(limit))
        entries = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "task_id": e.task_id,
                "scope": e.scope,
                "detail": e.detail,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in rows
        ]
    return OrjsonResponse(entries)


def _scope_filter(grant: Grant) -> sa.ColumnElement[bool]:
    scope = col(AuditEvent.scope)
    if grant.system is not None:
        return scope == f"{grant.institution}/{grant.system}"
    inst = str(grant.institution)
    escaped = inst.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.or_(scope == inst, scope.like(f"{escaped}/%", escape="\\"))


async def task_detail(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    task_id = request.path_params["task_id"]
    async with hub_state(request).sessions() as session:
        task = await session.get(Task, task_id)
        if task is None or not _may_see(identity, task):
            return problem(404, "NOT_FOUND", f"no task {task_id}")
        events = list(
            await session.exec(
                select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.id))
            )
        )
    return OrjsonResponse(task_json(task, events))


async def hub_key(request: Request) -> Response:
    """For agent enrollment: the hub's task-signing public key, to an agent's own token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return problem(401, "UNAUTHENTICATED", "an agent bearer token is required")
    state = hub_state(request)
    async with state.sessions() as session:
        identity = await identify(session, token.strip())
    if identity is None or identity.kind != "agent":
        return problem(401, "UNAUTHENTICATED", "an agent bearer token is required")
    pem = public_key_to_pem(state.signing_key.public_key())
    return Response(pem, media_type="application/x-pem-file")
