"""AGENT_EVENTs from made to acknowledged: stored first, then sent, resent until EVENT_ACK.

    made --stored in the outbox--> sent now if the link is READY
    WELCOME --every stored event sent again (same event_id)-->
    EVENT_ACK --deleted from the outbox-->

Delivery is at least once: an event made while a WELCOME's resend runs may go out twice, and
the hub dedups by event_id. Events survive agent restarts in the outbox, which is bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from agent.metrics import AgentMetrics
from agent.outbox import Outbox
from protocol import AgentEvent, Message

log = logging.getLogger("guardia.agent.events")

#: sends a frame if the link is READY; False when it is not (the outbox keeps the event)
SendReady = Callable[[Message], Awaitable[bool]]


class EventDelivery:
    def __init__(
        self, outbox: Outbox, send_ready: SendReady, metrics: AgentMetrics | None = None
    ) -> None:
        self._outbox = outbox
        self._send = send_ready
        self._metrics = metrics

    async def event_made(self, event: AgentEvent) -> None:
        await self._outbox.add_event(event)
        if self._metrics is not None:
            self._metrics.event_made(event)
        sent = await self._send(event)
        log.info(
            "event %s (%s on %s: %s)%s",
            event.event_id,
            event.service,
            event.node,
            event.pattern,
            "" if sent else ": kept for the hub, no link now",
        )

    async def welcomed(self) -> None:
        """The link is (back) up: every event the hub has not acknowledged goes again."""
        for event in await self._outbox.pending_events():
            if not await self._send(event):
                return

    async def acknowledged(self, event_id: str) -> None:
        if await self._outbox.ack_event(event_id):
            log.debug("event %s acknowledged by the hub", event_id)
