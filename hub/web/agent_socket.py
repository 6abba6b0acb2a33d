"""/ws/agent: agent daemons dialling out from customer networks."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from starlette.websockets import WebSocket

from cmdb.tables import Agent, utcnow
from hub.exceptions import HubError
from hub.ops import log_context, metrics
from hub.state import SERVER_VERSION, HubState
from hub.wire.agent_links import AgentLink
from hub.wire.handshake import open_connection
from protocol import (
    AGENT_CLIENT_TYPES,
    AgentEvent,
    AgentHello,
    CloseCode,
    Error,
    ErrorCode,
    EventAck,
    Message,
    Pong,
    ProtocolError,
    TaskAccepted,
    TaskFinished,
    TaskProgress,
    Welcome,
    decode,
    encode,
)

log = logging.getLogger("guardia.hub.agent")

Handler = Callable[[Message], Awaitable[None]]
#: frames whose failure must not leave the agent waiting: it resends what the hub has not
#: acknowledged only when it connects again, so the hub closes the link (1013) to ask for it
RESEND_ON_FAILURE = frozenset({"AGENT_HELLO", "TASK_FINISHED"})


class AgentSession:
    def __init__(self, state: HubState, link: AgentLink) -> None:
        self.state = state
        self.link = link
        self.agent_id = link.agent_id
        settings = state.settings
        self.bucket = state.peers.budget(
            link.conn, settings.agent_rate_per_second, settings.agent_rate_burst
        )
        self._handlers: dict[str, Handler] = {
            "AGENT_HELLO": self.on_hello,
            "TASK_ACCEPTED": self.on_accepted,
            "TASK_PROGRESS": self.on_progress,
            "TASK_FINISHED": self.on_finished,
            "AGENT_EVENT": self.on_event,
            "PING": self.on_ping,
            "PONG": self.on_pong,
            "AUTH": self.on_pong,
        }

    def error(self, code: ErrorCode, message: str, ref: str | None) -> None:
        self.link.conn.send(encode(Error(code=code, message=message, ref=ref)))

    async def on_frame(self, text: str) -> None:
        self.link.heard()
        if not self.bucket.take():
            metrics.rate_limited("agent")
            if self.bucket.abusive:
                log.warning("agent %s keeps sending over its rate: closing", self.agent_id)
                self.link.conn.close(CloseCode.RATE_LIMITED, "rate limit exceeded")
            else:
                self.error(ErrorCode.RATE_LIMITED, "too many frames; this one was dropped", None)
            return
        try:
            msg = decode(text, AGENT_CLIENT_TYPES, max_bytes=self.state.settings.max_frame_bytes)
        except ProtocolError as exc:
            log.warning("agent %s sent a bad frame: %s", self.agent_id, exc.message)
            self.error(exc.code, exc.message, exc.ref)
            return
        if not self.link.ready and msg.msg_type != "AGENT_HELLO":
            self.error(ErrorCode.BAD_FRAME, "send AGENT_HELLO first", msg.message_id)
            return
        # the task service adds the task's room and user to the lines written meanwhile
        with log_context.bound(agent_id=self.agent_id, task_id=getattr(msg, "task_id", None)):
            try:
                await self._handlers[msg.msg_type](msg)
            except HubError as exc:
                self.error(exc.code, exc.message, msg.message_id)
            except Exception:
                log.exception("handling %s from agent %s failed", msg.msg_type, self.agent_id)
                self.error(ErrorCode.INTERNAL, "internal error; it has been logged", msg.message_id)
                if msg.msg_type in RESEND_ON_FAILURE:
                    # e.g. the database is down: a result not stored is not acknowledged, and
                    # the agent's outbox sends it again on its next connection, which is now
                    self.link.conn.close(
                        CloseCode.TRY_AGAIN_LATER, "the hub could not store this; reconnect"
                    )

    def on_binary(self) -> None:
        self.link.conn.close(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported")

    async def on_hello(self, msg: Message) -> None:
        assert isinstance(msg, AgentHello)
        if msg.agent_id != self.agent_id:
            self.error(
                ErrorCode.FORBIDDEN,
                f"this token belongs to agent {self.agent_id}, not {msg.agent_id}",
                msg.message_id,
            )
            self.link.conn.close(CloseCode.WRONG_TOKEN_KIND, "agent id does not match its token")
            return
        if await self.state.agents.held_elsewhere(self.agent_id):
            # another hub holds a live link for this id (its presence is refreshed while the
            # link lives): the same rule as on one hub, the live link stays
            log.warning(
                "agent %s: refused a second connection: another hub holds it", self.agent_id
            )
            self.link.conn.close(
                CloseCode.REPLACED, "another connection with this agent id is live"
            )
            return
        self.link.actions = list(msg.actions)
        self.link.nodes = list(msg.nodes)
        self.link.version = msg.version
        await self.seen(msg.version)
        self.link.conn.send(encode(Welcome(agent_id=self.agent_id, server_version=SERVER_VERSION)))
        self.link.ready = True
        await self.state.agents.attached(self.agent_id)
        log.info("agent %s online (%d nodes)", self.agent_id, len(msg.nodes))
        await self.state.tasks.redeliver(self.agent_id)

    async def on_accepted(self, msg: Message) -> None:
        assert isinstance(msg, TaskAccepted)
        await self.state.tasks.on_accepted(self.agent_id, msg.task_id)

    async def on_progress(self, msg: Message) -> None:
        assert isinstance(msg, TaskProgress)
        await self.state.tasks.on_progress(self.agent_id, msg)

    async def on_finished(self, msg: Message) -> None:
        assert isinstance(msg, TaskFinished)
        await self.state.tasks.on_finished(self.agent_id, msg)

    async def on_event(self, msg: Message) -> None:
        """A log watch matched: stored as (or folded into) an incident, then acknowledged."""
        assert isinstance(msg, AgentEvent)
        answer = await self.state.intake.agent_event(self.agent_id, msg)
        if answer is None:
            self.error(
                ErrorCode.FORBIDDEN,
                f"agent {self.agent_id} does not serve node {msg.node}",
                msg.message_id,
            )
            return
        self.link.conn.send(encode(EventAck(event_id=msg.event_id)))

    async def on_ping(self, msg: Message) -> None:
        self.link.conn.send(encode(Pong()))

    async def on_pong(self, msg: Message) -> None:
        return None

    async def seen(self, version: str | None = None) -> None:
        """When the agent was last heard (and the version it said it runs)."""
        heard = utcnow() - timedelta(seconds=max(0.0, time.monotonic() - self.link.last_frame_at))
        async with self.state.sessions() as session:
            agent = await session.get(Agent, self.agent_id)
            if agent is not None:
                agent.last_seen = heard
                if version is not None:
                    agent.version = version[:64]
                session.add(agent)
                await session.commit()


async def agent_endpoint(websocket: WebSocket) -> None:
    state: HubState = websocket.app.state.hub
    conn = await open_connection(websocket, state.sessions, state.settings, "agent")
    if conn is None:
        return
    agent_id = conn.identity.name
    session = AgentSession(state, state.links.attach(agent_id, conn))
    state.peers.add(conn)
    try:
        await conn.run(session.on_frame, session.on_binary)
    finally:
        state.peers.remove(conn)
        if state.links.detach(agent_id, conn):
            await state.agents.detached(agent_id)
            log.info("agent %s offline", agent_id, extra={"agent_id": agent_id})
            if session.link.ready:
                try:
                    await session.seen()
                except Exception as exc:  # the database may be what cut the link
                    log.warning("agent %s: last seen not stored: %s", agent_id, exc)
