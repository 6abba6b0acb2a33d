"""The agents connected to this hub: one live link per agent id; the first keeps it (4409).

A second connection with the id of an agent whose link is alive is refused with 4409: were
the newest to win, anyone holding an agent's token could push the real agent off for good
(issue 17.10). A link counts as alive while it has sent a frame within `silence_limit`
seconds (agents send a `PING` frame every heartbeat.interval, 20 s by default; the hub's limit
is 3 x GUARDIA_AGENT_PING_INTERVAL, 60 s by default: three missed pings). A link silent past
that is presumed dead (a cut the TCP stack has not noticed yet): it is closed with 4409 and
the new connection takes its place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.wire.connection import Connection
from protocol import CloseCode

log = logging.getLogger("guardia.hub.agent")

#: seconds without a frame after which a link is presumed dead, unless the hub says otherwise
DEFAULT_SILENCE_LIMIT = 60.0


@dataclass
class AgentLink:
    agent_id: str
    conn: Connection
    actions: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    ready: bool = False  # AGENT_HELLO received, WELCOME sent
    version: str | None = None  # from AGENT_HELLO
    #: time.monotonic() of the last frame from the agent (or of the connection)
    last_frame_at: float = field(default_factory=time.monotonic)

    def heard(self, now: float | None = None) -> None:
        """A frame arrived from the agent: it is alive."""
        self.last_frame_at = time.monotonic() if now is None else now


class AgentLinks:
    def __init__(
        self,
        silence_limit: float = DEFAULT_SILENCE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._links: dict[str, AgentLink] = {}
        self.silence_limit = silence_limit
        self._clock = clock

    def attach(self, agent_id: str, conn: Connection) -> AgentLink:
        """The link for a new connection. While another live link holds the id, the new
        connection is closed with 4409 and its link is never registered."""
        now = self._clock()
        old = self._links.get(agent_id)
        if old is not None and old.conn is not conn and not old.conn.closed:
            silent = now - old.last_frame_at
            if silent < self.silence_limit:
                log.warning(
                    "agent %s: refused a second connection (session %s): the link of "
                    "session %s is alive (last frame %.0f s ago)",
                    agent_id,
                    conn.session_id,
                    old.conn.session_id,
                    silent,
                )
                conn.close(CloseCode.REPLACED, "another connection with this agent id is live")
                return AgentLink(agent_id, conn, last_frame_at=now)
            log.warning(
                "agent %s: link of session %s silent for %.0f s: replaced by session %s",
                agent_id,
                old.conn.session_id,
                silent,
                conn.session_id,
            )
            old.conn.close(CloseCode.REPLACED, f"silent for {silent:.0f} s; replaced")
        link = self._links[agent_id] = AgentLink(agent_id, conn, last_frame_at=now)
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

    def live(self) -> list[AgentLink]:
        """The ready links of this hub (for the metrics and the operations view)."""
        return [link for link in self._links.values() if link.ready and not link.conn.closed]

    def heard_ago(self) -> dict[str, float]:
        """Seconds since each ready link's last frame."""
        now = self._clock()
        return {link.agent_id: max(0.0, now - link.last_frame_at) for link in self.live()}

    def send(self, agent_id: str, frame: str) -> bool:
        link = self.get(agent_id)
        return link is not None and link.conn.send(frame)
