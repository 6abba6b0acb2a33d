"""GET /api/incidents and /api/incidents/{id}: incidents scoped to the reader like rooms.

A reader sees the incidents of systems their grants reach (any role); an incident on no
node (a Sentry issue routed by its integration's room) is seen by those who may join its
room.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from cmdb.accounts import Identity, may_join
from cmdb.tables import Incident, Room
from hub.intake.states import IncidentState
from hub.tasks.store import iso
from hub.web.http import OrjsonResponse, current_user, hub_state, int_param, problem


def incident_json(row: Incident, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "alert_id": row.id,
        "state": row.state,
        "severity": row.severity,
        "kind": row.kind,
        "node": row.node,
        "system": row.system,
        "institution": row.institution,
        "source": row.source,
        "integration": row.integration,
        "fingerprint": row.fingerprint,
        "title": row.title,
        "summary": row.summary,
        "room_id": row.room_id,
        "occurrences": row.occurrences,
        "first_seen": iso(row.first_seen),
        "last_seen": iso(row.last_seen),
        "resolved_at": iso(row.resolved_at) if row.resolved_at else None,
        "task_ids": row.task_ids,
        "similar": row.similar,
    }
    if detail:
        out["timeline"] = row.timeline
    return out


def _scope(identity: Identity) -> Any:
    """The incidents a reader's grants reach, as a WHERE clause (node-less ones filtered after)."""
    if any(g.institution is None for g in identity.grants):
        return sa.true()
    reach: list[Any] = [col(Incident.system).is_(None)]
    for grant in identity.grants:
        if grant.system is None:
            reach.append(col(Incident.institution) == grant.institution)
        else:
            reach.append(
                (col(Incident.institution) == grant.institution)
                & (col(Incident.system) == grant.system)
            )
    return sa.or_(*reach)


async def _room_visible(session: AsyncSession, identity: Identity, row: Incident) -> bool:
    if row.system is not None:
        return True  # the scope clause has decided
    room = await session.get(Room, row.room_id) if row.room_id else None
    return room is not None and may_join(identity, room)


async def incidents(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    try:
        limit = int_param(request, "limit", 50, 1, 500)
    except ValueError as exc:
        return problem(400, "BAD_FRAME", str(exc))
    query = select(Incident).where(_scope(identity))
    if state := request.query_params.get("state"):
        if state not in {s.value for s in IncidentState}:
            return problem(400, "BAD_FRAME", "state must be firing, acknowledged or resolved")
        query = query.where(Incident.state == state)
    if room_id := request.query_params.get("room_id"):
        query = query.where(Incident.room_id == room_id)
    if node := request.query_params.get("node"):
        query = query.where(Incident.node == node)
    query = query.order_by(col(Incident.last_seen).desc()).limit(limit)
    async with hub_state(request).sessions() as session:
        rows = [r for r in await session.exec(query) if await _room_visible(session, identity, r)]
    return OrjsonResponse([incident_json(r) for r in rows])


async def incident_detail(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    incident_id = request.path_params["incident_id"]
    async with hub_state(request).sessions() as session:
        row = (
            await session.exec(select(Incident).where(Incident.id == incident_id, _scope(identity)))
        ).first()
        if row is None or not await _room_visible(session, identity, row):
            return problem(404, "NOT_FOUND", f"no incident {incident_id}")
    return OrjsonResponse(incident_json(row, detail=True))
