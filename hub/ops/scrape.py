"""What `/metrics` reads when Prometheus asks: the site's gauges from the database, and the
agent links of this hub."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from hub.ops import metrics, site
from hub.wire.agent_links import AgentLinks


async def refresh(sessions: async_sessionmaker[AsyncSession], links: AgentLinks) -> None:
    """Set the scrape-time gauges; a database that does not answer leaves them as they were."""
    metrics.set_agents(links.heard_ago())
    async with sessions() as session:
        counts = await site.task_counts(session)
        pending = await site.pending_approvals(session)
    metrics.set_site(counts, pending, site.LIVE_STATES)
