"""The CMDB file in and out of the database: `guardia cmdb import` / `guardia cmdb export`.

Import is an idempotent upsert in one transaction: a file is validated whole first
(cmdb.document), so a refused file leaves the database exactly as it was. Rows remember
their position in the file, so an export reads back what was imported, byte for byte.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb import document as doc
from cmdb.exceptions import CmdbFileError, CmdbProblem
from cmdb.tables import Agent, Institution, Node, System


async def import_document(
    session: AsyncSession, cmdb: doc.CmdbDocument, *, source: str = "<cmdb>"
) -> dict[str, int]:
    """Create or update everything the document names; returns counts per kind.

    Raises `CmdbFileError` (said to be in `source`), listing every system the file would
    move to another institution, before anything is written.
    """
    existing_systems = {s.code: s.institution_code for s in await session.exec(select(System))}
    moved = [
        CmdbProblem(
            None,
            f"system {system.code} belongs to institution {owner} in the database, not {inst.code}",
        )
        for inst in cmdb.institutions
        for system in inst.systems
        if (owner := existing_systems.get(system.code)) is not None and owner != inst.code
    ]
    if moved:
        raise CmdbFileError(source=source, problems=moved)
    for i, inst in enumerate(cmdb.institutions):
        row_i = await session.get(Institution, inst.code) or Institution(code=inst.code, name="")
        row_i.name, row_i.aliases, row_i.position = inst.name, list(inst.aliases), i
        session.add(row_i)
    await session.flush()
    # agents before systems and nodes: nodes refer to them
    for i, agent in enumerate(cmdb.agents):
        row = await session.get(Agent, agent.id) or Agent(id=agent.id)
        row.institution_code = agent.institution
        row.position = i
        session.add(row)
    await session.flush()
    n_systems = n_nodes = 0
    for inst in cmdb.institutions:
        for j, system in enumerate(inst.systems):
            row_s = await session.get(System, system.code) or System(
                code=system.code, institution_code=inst.code, name=""
            )
            row_s.institution_code, row_s.name = inst.code, system.name
            row_s.aliases, row_s.position = list(system.aliases), j
            session.add(row_s)
            n_systems += 1
        await session.flush()
        for system in inst.systems:
            for k, node in enumerate(system.nodes):
                row_n = await session.get(Node, node.asset_code) or Node(
                    asset_code=node.asset_code,
                    system_code=system.code,
                    host="",
                    layer="",
                    env="",
                    agent_id="",
                )
                row_n.system_code, row_n.host, row_n.port = system.code, node.host, node.port
                row_n.layer, row_n.env, row_n.agent_id = node.layer, node.env, node.agent
                row_n.services, row_n.position = list(node.services), k
                session.add(row_n)
                n_nodes += 1
    await session.commit()
    return {
        "institutions": len(cmdb.institutions),
        "systems": n_systems,
        "nodes": n_nodes,
        "agents": len(cmdb.agents),
    }


async def export_document(session: AsyncSession) -> doc.CmdbDocument:
    """The whole CMDB as a document, in the order it was imported."""
    institutions = list(
        await session.exec(
            select(Institution).order_by(col(Institution.position), col(Institution.code))
        )
    )
    systems = list(
        await session.exec(select(System).order_by(col(System.position), col(System.code)))
    )
    nodes = list(
        await session.exec(select(Node).order_by(col(Node.position), col(Node.asset_code)))
    )
    agents = list(await session.exec(select(Agent).order_by(col(Agent.position), col(Agent.id))))
    nodes_of: dict[str, list[doc.Node]] = {}
    for n in nodes:
        nodes_of.setdefault(n.system_code, []).append(
            doc.Node(
                asset_code=n.asset_code,
                host=n.host,
                port=n.port,
                layer=n.layer,
                env=n.env,
                agent=n.agent_id,
                services=tuple(n.services),
            )
        )
    systems_of: dict[str, list[doc.System]] = {}
    for s in systems:
        systems_of.setdefault(s.institution_code, []).append(
            doc.System(
                code=s.code,
                name=s.name,
                aliases=tuple(s.aliases),
                nodes=tuple(nodes_of.get(s.code, ())),
            )
        )
    return doc.CmdbDocument(
        institutions=tuple(
            doc.Institution(
                code=i.code,
                name=i.name,
                aliases=tuple(i.aliases),
                systems=tuple(systems_of.get(i.code, ())),
            )
            for i in institutions
        ),
        agents=tuple(doc.Agent(id=a.id, institution=a.institution_code) for a in agents),
    )
