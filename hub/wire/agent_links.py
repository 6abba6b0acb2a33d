"""The agents connected to this hub: one live link per agent id, newest wins (4409)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.wire.connection import Connection
from protocol import CloseCode


@dataclass
class AgentLink:
    agent_id: str
    conn: Connection
    actions: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    ready: bool = False  # AGENT_HELLO received, WELCOME sent


class AgentLinks:
    def __init__(self) -> None:
        self._links: dict[str, AgentLink] = {}

    def attach(self, agent_id: str, conn: Connection) -> AgentLink:
        old = self._links.get(agent_id)
        if old is not None and old.conn is not conn:
            old.conn.close(CloseCode.REPLACED, "replaced by a newer connection")
        link = self._links[agent_id] = AgentLink(agent_id, conn)
        return link

    def detach(self, agent_id: str, conn: Connection) -> bool:
        """Forget the link if it is still this connection's; True if it was."""
        link = self._links.get(agent_id)
        if link is not None and link.conn is conn:
            del self._links[agent_id]
            return True
        return False

    def get(self, agent_id: str) -> AgentLink | None:
        link = self._links.get(agent_id)
        if link is None or link.conn.closed or not link.ready:
            return None
        return link

    def online(self) -> list[str]:
        return [a for a, link in self._links.items() if link.ready and not link.conn.closed]

    def send(self, agent_id: str, frame: str) -> bool:
        link = self.get(agent_id)
        return link is not None and link.conn.send(frame)
