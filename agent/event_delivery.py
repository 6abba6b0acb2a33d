"""AGENT_EVENTs from made to acknowledged: stored first, then sent, resent until EVENT_ACK.

    made --stored in the outbox--> sent now if the link is READY
    WELCOME --every stored event sent again (same event_id)-->
    EVENT_ACK --deleted from the outbox-->
    ERROR FORBIDDEN (ref: the event's frame) --dropped from the outbox, logged at ERROR-->

Delivery is at least once: an event made while a WELCOME's resend runs may go out twice, and
the hub dedups by event_id. Events survive agent restarts in the outbox, which is bounded.

A refusal is not retried. The hub answers FORBIDDEN when the CMDB says another agent (or
none) serves the event's node: a configuration mismatch that no resend cures. Kept, such
an event would go out again on every reconnect and be refused again, and refused events
would fill the bounded outbox until they pushed out good ones. So it is dropped, with an
ERROR line naming the node and what to fix, and counted
(`guardia_agent_events_refused_total`). Any other error (the hub's INTERNAL, a rate limit)
leaves the event in the outbox for the next reconnect, as before.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from agent.metrics import AgentMetrics
from agent.outbox import Outbox
from protocol import AgentEvent, Error, ErrorCode, Message

log = logging.getLogger("guardia.agent.events")

#: sends a frame if the link is READY; False when it is not (the outbox keeps the event)
SendReady = Callable[[Message], Awaitable[bool]]
#: the hub's answers that end an event for good
FINAL_REFUSALS = frozenset({ErrorCode.FORBIDDEN})


class EventDelivery:
    def __init__(
        self,
        outbox: Outbox,
        send_ready: SendReady,
        metrics: AgentMetrics | None = None,
        *,
        remember: int = 1000,
    ) -> None:
        self._outbox = outbox
        self._send = send_ready
        self._metrics = metrics
        #: frames sent and not yet acknowledged: message_id -> the event (an ERROR's ref
        #: names the frame, not the event); the outbox's bound, oldest forgotten first
        self._sent: OrderedDict[str, AgentEvent] = OrderedDict()
        self._remember = remember

    async def _deliver(self, event: AgentEvent) -> bool:
        sent = await self._send(event)
        if sent:
            self._sent[event.message_id] = event
            self._sent.move_to_end(event.message_id)
            while len(self._sent) > self._remember:
                self._sent.popitem(last=False)
        return sent

    async def event_made(self, event: AgentEvent) -> None:
        await self._outbox.add_event(event)
        if self._metrics is not None:
            self._metrics.event_made(event)
        sent = await self._deliver(event)
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
            if not await self._deliver(event):
                return

    async def acknowledged(self, event_id: str) -> None:
        self._forget(event_id)
        if await self._outbox.ack_event(event_id):
            log.debug("event %s acknowledged by the hub", event_id)

    async def refused(self, error: Error) -> bool:
        """The hub's ERROR about one of our event frames: True when it was one (handled)."""
        event = self._sent.get(error.ref or "")
        if event is None:
            return False
        if error.code not in FINAL_REFUSALS:
            log.warning(
                "the hub could not take event %s (%s: %s); it is kept and sent again on the "
                "next connection",
                event.event_id,
                error.code,
                error.message,
            )
            return True
        self._forget(event.event_id)
        await self._outbox.ack_event(event.event_id)
        if self._metrics is not None:
            self._metrics.event_refused(event)
        log.error(
            "the hub refused event %s about %s (%s: %s); it is dropped, not sent again. "
            "The CMDB must name this agent as the agent of %s, or the watch on %s in "
            "agent.yaml must go",
            event.event_id,
            event.node,
            error.code,
            error.message,
            event.node,
            event.node,
        )
        return True

    def _forget(self, event_id: str) -> None:
        for message_id in [m for m, e in self._sent.items() if e.event_id == event_id]:
            del self._sent[message_id]
