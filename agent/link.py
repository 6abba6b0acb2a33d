"""The agent's WebSocket link to the hub: dial, AGENT_HELLO, WELCOME, dispatch, reconnect.

Thin on purpose: frames are decoded by `protocol`, dispatched through one table to the task
runner, and answered with `protocol.encode`; the policy (backoff, final closes) is pure code
in agent/backoff.py and the states are one table in agent/link_state.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from agent import __version__
from agent.backoff import ReconnectPolicy, Stop, close_verdict, handshake_verdict, is_conflict
from agent.config import AgentConfig
from agent.event_delivery import EventDelivery
from agent.hub_address import HubAddress
from agent.link_state import LinkEvent, LinkState, next_state
from agent.metrics import AgentMetrics
from agent.task_runner import TaskRunner
from protocol import (
    AGENT_SERVER_TYPES,
    DEFAULT_MAX_FRAME_BYTES,
    Ack,
    AgentHello,
    CloseCode,
    Error,
    EventAck,
    Message,
    Ping,
    Pong,
    ProtocolError,
    TaskAssign,
    TaskCancel,
    Welcome,
    decode,
    encode,
)

log = logging.getLogger("guardia.agent.link")

#: the hub must answer AGENT_HELLO with WELCOME within this many seconds
WELCOME_TIMEOUT = 10.0

Handler = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class SessionEnd:
    """How one connection ended."""

    #: a final close: the agent stops
    verdict: Stop | None = None
    #: seconds the connection stayed up after WELCOME; None when it never got there
    stayed_up: float | None = None
    #: the hub's close reason when it closed 4409 (another connection with this agent's id)
    conflict: str | None = None


class HubChannel:
    """The socket to the hub while there is one. Sending without one returns False: the
    outbox keeps what matters, and progress is not worth queueing."""

    def __init__(self) -> None:
        self._ws: ClientConnection | None = None
        #: the hub said WELCOME on this socket: events may go (the hub drops frames before)
        self.ready = False

    def attach(self, ws: ClientConnection) -> None:
        self._ws = ws

    def detach(self) -> None:
        self._ws = None
        self.ready = False

    async def send(self, message: Message) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(encode(message))
        except ConnectionClosed:
            return False
        return True

    async def send_ready(self, message: Message) -> bool:
        """Send only on a welcomed link; False otherwise (the sender keeps the message)."""
        return self.ready and await self.send(message)


class HubLink:
    def __init__(
        self,
        *,
        address: HubAddress,
        agent_id: str,
        token: str,
        config: AgentConfig,
        actions: list[str],
        runner: TaskRunner,
        channel: HubChannel,
        events: EventDelivery,
        metrics: AgentMetrics | None = None,
    ) -> None:
        self.address = address
        self.agent_id = agent_id
        self._token = token
        self.config = config
        self.actions = actions
        self.runner = runner
        self.channel = channel
        self.events = events
        self.metrics = metrics or AgentMetrics()
        self.policy = ReconnectPolicy(
            config.reconnect.initial_delay,
            config.reconnect.max_delay,
            config.reconnect.stable_after,
            config.reconnect.conflict_delay,
            config.reconnect.conflict_max_delay,
        )
        self.state = LinkState.IDLE
        #: how many times the hub said WELCOME
        self.sessions = 0
        #: how many times the link was lost (or refused) and dialled again
        self.reconnects = 0
        self._stopping = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._handlers: dict[str, Handler] = {
            Welcome.MSG_TYPE: self.welcome_received,
            TaskAssign.MSG_TYPE: self.task_assign_received,
            TaskCancel.MSG_TYPE: self.task_cancel_received,
            Ack.MSG_TYPE: self.ack_received,
            EventAck.MSG_TYPE: self.event_ack_received,
            Ping.MSG_TYPE: self.ping_received,
            Pong.MSG_TYPE: self.pong_received,
            Error.MSG_TYPE: self.error_received,
        }

    def _move(self, event: LinkEvent) -> None:
        self.state = next_state(self.state, event)

    async def run(self) -> Stop | None:
        """Stay connected until stop(); return the Stop when the hub closed for good."""
        delays = self.policy.delays()
        conflicts = self.policy.conflict_delays()
        while not self._stopping.is_set():
            self._move(LinkEvent.DIAL)
            try:
                end = await self._session()
            except Exception:
                # a bug or a local failure (the outbox unreadable): a drop, not the end
                log.exception("the link to the hub failed")
                end = SessionEnd()
            if end.verdict is not None:
                self._move(LinkEvent.FINAL_CLOSE)
                return end.verdict
            if self._stopping.is_set():
                break
            self._move(LinkEvent.DROPPED)
            if end.stayed_up is not None:
                conflicts = self.policy.conflict_delays()
                if self.policy.is_stable(end.stayed_up):
                    delays = self.policy.delays()
            if end.conflict is not None:
                delay = next(conflicts)
                log.error(
                    "ANOTHER PROCESS USES THIS AGENT'S ID: the hub refused agent %s because a "
                    "connection with the same id is live (close 4409: %s). Run one agent per "
                    "id: look for a second guardia-agent started with this id and token. "
                    "This agent keeps trying; next attempt in %.0f s",
                    self.agent_id,
                    end.conflict or "no reason given",
                    delay,
                )
            else:
                delay = next(delays)
                log.info("reconnecting to the hub in %.1f s", delay)
            self.reconnects += 1
            self.metrics.reconnects.inc()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
        self._move(LinkEvent.SHUTDOWN)
        return None

    async def stop(self) -> None:
        self._stopping.set()
        ws = self._ws
        if ws is not None:
            await ws.close(CloseCode.GOING_AWAY, "agent shutting down")

    async def _session(self) -> SessionEnd:
        """One connection, from dialling to its close."""
        try:
            ws = await connect(
                self.address.ws_url,
                additional_headers={"Authorization": f"Bearer {self._token}"},
                user_agent_header=f"guardia-agent/{__version__}",
                open_timeout=self.config.connect_timeout,
                ping_interval=self.config.heartbeat.interval,
                ping_timeout=self.config.heartbeat.timeout,
                close_timeout=5,
                max_size=DEFAULT_MAX_FRAME_BYTES,
                compression=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            verdict = handshake_verdict(status)
            if verdict is None:
                log.warning(
                    "the hub at %s refused the connection: HTTP %d", self.address.ws_url, status
                )
            return SessionEnd(verdict=verdict)
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.warning(
                "cannot connect to the hub at %s: %s",
                self.address.ws_url,
                exc or type(exc).__name__,
            )
            return SessionEnd()
        self._move(LinkEvent.OPENED)
        self._ws = ws
        self.channel.attach(ws)
        welcomed_at: float | None = None
        heartbeat: asyncio.Task[None] | None = None
        try:
            if self._stopping.is_set():
                return SessionEnd()
            await ws.send(encode(await self.hello()))
            try:
                async with asyncio.timeout(WELCOME_TIMEOUT):
                    while self.state is not LinkState.READY:
                        await self._receive(ws)
            except TimeoutError:
                log.warning("the hub sent no WELCOME within %g s; reconnecting", WELCOME_TIMEOUT)
                return SessionEnd()
            welcomed_at = time.monotonic()
            heartbeat = asyncio.create_task(self._heartbeat(ws), name="hub-heartbeat")
            while True:
                await self._receive(ws)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            reason = exc.rcvd.reason if exc.rcvd is not None else ""
            verdict = close_verdict(code)
            conflict = reason if is_conflict(code) else None
            if verdict is None and conflict is None and not self._stopping.is_set():
                log.warning(
                    "connection to the hub closed (code %s%s)",
                    code,
                    f": {reason}" if reason else "",
                )
            stayed_up = None if welcomed_at is None else time.monotonic() - welcomed_at
            return SessionEnd(verdict=verdict, stayed_up=stayed_up, conflict=conflict)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            self.metrics.link_up.set(0)
            self.channel.detach()
            self._ws = None
            await ws.close()

    async def _heartbeat(self, ws: ClientConnection) -> None:
        """A PING frame every heartbeat.interval: the hub counts a link that has sent nothing
        for 3 x its GUARDIA_AGENT_PING_INTERVAL as dead (WebSocket pings never reach it)."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(self.config.heartbeat.interval)
                await ws.send(encode(Ping()))

    async def hello(self) -> AgentHello:
        pending = [result.task_id for result in await self.runner.unacknowledged()]
        return AgentHello(
            agent_id=self.agent_id,
            version=__version__,
            actions=self.actions,
            nodes=list(self.config.nodes),
            pending_results=pending,
        )

    async def _receive(self, ws: ClientConnection) -> None:
        data = await ws.recv()
        try:
            message = decode(data, AGENT_SERVER_TYPES)
        except ProtocolError as exc:
            log.warning("bad frame from the hub (%s): %s", exc.code, exc.message)
            return
        try:
            await self._handlers[message.msg_type](message)
        except Exception:
            # e.g. the outbox could not be written: that task is not run, the link stays up
            log.exception("handling %s from the hub failed", message.msg_type)

    # -- handlers, one per msg_type the hub may send ------------------------------------

    async def welcome_received(self, message: Welcome) -> None:
        if self.state is LinkState.READY:
            return
        self._move(LinkEvent.WELCOMED)
        self.sessions += 1
        log.info(
            "connected to the hub at %s as %s (hub %s)",
            self.address.ws_url,
            message.agent_id,
            message.server_version,
        )
        for result in await self.runner.unacknowledged():
            await self.channel.send(result)
        self.channel.ready = True
        self.metrics.link_up.set(1)
        await self.events.welcomed()

    async def task_assign_received(self, message: TaskAssign) -> None:
        await self.runner.task_assigned(message)

    async def task_cancel_received(self, message: TaskCancel) -> None:
        self.runner.cancel(message.task_id)

    async def ack_received(self, message: Ack) -> None:
        await self.runner.acknowledged(message.task_id)

    async def event_ack_received(self, message: EventAck) -> None:
        await self.events.acknowledged(message.event_id)

    async def ping_received(self, message: Ping) -> None:
        await self.channel.send(Pong())

    async def pong_received(self, message: Pong) -> None:
        pass

    async def error_received(self, message: Error) -> None:
        if await self.events.refused(message):  # about an event: it says what becomes of it
            return
        log.warning("the hub reports %s: %s (ref %s)", message.code, message.message, message.ref)
