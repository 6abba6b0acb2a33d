"""Node queries the hub's command side needs straight from the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.tables import Node, System


async def nodes_in_scope(
    session: AsyncSession, institution: str | None = None, system: str | None = None
) -> list[tuple[Node, str]]:
    """Nodes (with their institution code) under a scope, in asset-code order."""
    query = select(Node, System.institution_code).join(
        System, col(Node.system_code) == col(System.code)
    )
    if institution is not None:
        query = query.where(System.institution_code == institution)
    if system is not None:
        query = query.where(Node.system_code == system)
    rows = await session.exec(query.order_by(col(Node.asset_code)))
    return [(node, inst) for node, inst in rows]


async def nodes_by_code(
    session: AsyncSession, asset_codes: Sequence[str]
) -> list[tuple[Node, str]]:
    """The named nodes (with their institution code), in asset-code order."""
    rows = await session.exec(
        select(Node, System.institution_code)
        .join(System, col(Node.system_code) == col(System.code))
        .where(col(Node.asset_code).in_(list(asset_codes)))
        .order_by(col(Node.asset_code))
    )
    return [(node, inst) for node, inst in rows]
