"""Frames to agents wherever they are held: on this hub's links, or another hub's (Redis)."""

from __future__ import annotations

from typing import Protocol

from hub.wire.agent_links import AgentLinks


class AgentPresence(Protocol):
    """What the backplane offers for agents held by other hubs."""

    async def send_to_agent(self, agent_id: str, frame: str) -> bool: ...
    async def agent_online(self, agent_id: str) -> bool: ...
    async def online_agents(self) -> list[str]: ...
    async def agent_attached(self, agent_id: str) -> None: ...
    async def agent_detached(self, agent_id: str) -> None: ...
    async def held_elsewhere(self, agent_id: str) -> bool: ...


class AgentRouter:
    def __init__(self, links: AgentLinks, presence: AgentPresence | None = None) -> None:
        self.links = links
        self._presence = presence

    async def send(self, agent_id: str, frame: str) -> bool:
        """Hand a frame to the agent; False if no hub holds it."""
        if self.links.send(agent_id, frame):
            return True
        if self._presence is not None:
            return await self._presence.send_to_agent(agent_id, frame)
        return False

    def send_here(self, agent_id: str, frame: str) -> bool:
        """Only if this hub holds the agent (answers on its own link)."""
        return self.links.send(agent_id, frame)

    async def is_online(self, agent_id: str) -> bool:
        if self.links.get(agent_id) is not None:
            return True
        return self._presence is not None and await self._presence.agent_online(agent_id)

    async def online(self) -> list[str]:
        agents = set(self.links.online())
        if self._presence is not None:
            agents |= set(await self._presence.online_agents())
        return sorted(agents)

    async def held_elsewhere(self, agent_id: str) -> bool:
        """Whether another hub holds a live link for this agent (never, with one hub)."""
        return self._presence is not None and await self._presence.held_elsewhere(agent_id)

    async def attached(self, agent_id: str) -> None:
        if self._presence is not None:
            await self._presence.agent_attached(agent_id)

    async def detached(self, agent_id: str) -> None:
        if self._presence is not None:
            await self._presence.agent_detached(agent_id)
