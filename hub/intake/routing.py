"""Where a signal belongs: the CMDB node it names, and the room that covers that node.

The node is found by `asset_code` first, then by host or IP (an `instance` label's host,
`serverIp`, `serverName`), compared case-insensitively with the nodes' hosts and asset codes.
Several nodes on one host: the one running the signal's service, else the first by asset
code. The room is the integration's own (`guardia integration add --room`) when it has one,
else the room whose scope covers the node's system most closely: `INST/SYS`, then `INST`,
then an unscoped room. A host the CMDB does not know is not guessed at: it is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.tables import Node, Room, System
from hub.intake.signals import Signal


@dataclass(frozen=True)
class Route:
    room_id: str
    node: str | None = None
    system: str | None = None
    institution: str | None = None


@dataclass(frozen=True)
class Ignored:
    reason: str


async def find_node(session: AsyncSession, signal: Signal) -> tuple[Node, str] | None:
    """The node a signal names (with its institution), or None."""
    base = select(Node, System.institution_code).join(
        System, col(Node.system_code) == col(System.code)
    )
    if signal.asset_code:
        rows = list(
            await session.exec(
                base.where(sa.func.upper(col(Node.asset_code)) == signal.asset_code.upper())
            )
        )
        if rows:
            return rows[0]
    if not signal.hosts:
        return None
    lower = [h.lower() for h in signal.hosts]
    upper = [h.upper() for h in signal.hosts]
    rows = list(
        await session.exec(
            base.where(
                sa.func.lower(col(Node.host)).in_(lower)
                | sa.func.upper(col(Node.asset_code)).in_(upper)
            ).order_by(col(Node.asset_code))
        )
    )
    if not rows:
        return None

    def rank(row: tuple[Node, str]) -> tuple[int, int, str]:
        node = row[0]
        names = [node.host.lower(), node.asset_code.lower()]
        first = min((lower.index(n) for n in names if n in lower), default=len(lower))
        serves = 0 if signal.service and signal.service in node.services else 1
        return (first, serves, node.asset_code)

    return min(rows, key=rank)


async def room_for(session: AsyncSession, institution: str, system: str) -> str | None:
    """The room whose scope covers a system most closely (INST/SYS, INST, unscoped)."""
    exact, broad = f"{institution}/{system}", institution
    rows = list(
        await session.exec(
            select(Room).where(col(Room.scope).in_([exact, broad]) | col(Room.scope).is_(None))
        )
    )
    order = {exact: 0, broad: 1, None: 2}
    rows.sort(key=lambda r: (order.get(r.scope, 3), r.id))
    return rows[0].id if rows else None


def _hint(signal: Signal) -> str:
    return signal.asset_code or ", ".join(signal.hosts)


async def route(
    session: AsyncSession, signal: Signal, integration_room: str | None
) -> Route | Ignored:
    found = await find_node(session, signal)
    if found is None:
        if signal.asset_code or signal.hosts:
            return Ignored(f"no CMDB node has host or asset code {_hint(signal)}")
        if integration_room is None:
            return Ignored("the alert names no host and its integration has no room")
        return Route(room_id=integration_room)
    node, institution = found
    room = integration_room or await room_for(session, institution, node.system_code)
    if room is None:
        return Ignored(f"no room covers {institution}/{node.system_code} ({node.asset_code})")
    return Route(
        room_id=room, node=node.asset_code, system=node.system_code, institution=institution
    )
