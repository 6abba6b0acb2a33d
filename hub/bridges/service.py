"""The bridges' life in the hub: a worker per lane, woken by the room writer, and a poll.

`offer(room_id)` is on the room writer's path (hub/state.py `_stored`): it only sets the
room's lane workers' events, never awaits. The poll finds what the wake-ups cannot see:
links made by `guardia room link` while the hub runs, frames stored by other hubs, rows
that are due again, and work left over from before a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from hub.bridges.integrations import IntegrationAuth
from hub.bridges.lane_worker import LaneWorker
from hub.bridges.lanes import lane_of, split_lane
from hub.bridges.links import ensure_lane
from hub.bridges.outbox import LaneStore
from hub.bridges.senders import Sender
from hub.bridges.translation import Outgoing

log = logging.getLogger("guardia.hub.bridges")

EVENT_MEMORY = 24 * 3600.0  # seconds an inbound event id is remembered (Slack retries for ~1 h)


class BridgeService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: dict[str, Sender],
        integrations: IntegrationAuth,
        *,
        poll: float,
        retry_max: float,
    ) -> None:
        self._sessions = sessions
        self.store = LaneStore(sessions, holder=uuid.uuid4().hex[:16])
        self.senders = senders
        self.integrations = integrations
        self._poll = poll
        self._retry_max = retry_max
        self._workers: dict[str, LaneWorker] = {}
        self._rooms: dict[str, set[str]] = {}  # room_id -> its lanes
        self._loop: asyncio.Task[None] | None = None
        self._unsendable: set[str] = set()

    async def start(self) -> None:
        await self._refresh()
        self._loop = asyncio.create_task(self._poll_loop(), name="bridges poll")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for worker in list(self._workers.values()):
            await worker.stop()
        for sender in self.senders.values():
            await sender.aclose()

    # -- the hot path -----------------------------------------------------------------------

    def offer(self, room_id: str) -> None:
        """A frame of this room was stored: its lanes have work (never blocks)."""
        for lane in self._rooms.get(room_id, ()):
            worker = self._workers.get(lane)
            if worker is not None:
                worker.wake()

    # -- lanes ------------------------------------------------------------------------------

    def touch(self, lane: str, room_id: str) -> None:
        """A lane just used from outside (an inbound event): make sure it is worked."""
        self._track(lane, room_id)
        worker = self._workers.get(lane)
        if worker is not None:
            worker.wake()

    async def notify(self, lane: str, room_id: str, user: str, text: str) -> None:
        """A notice to one person on a lane, in the lane's order."""
        await self.store.enqueue(lane, Outgoing("notice", {"user": user, "text": text}))
        self.touch(lane, room_id)

    async def messenger_lane(self, name: str, room_id: str) -> str:
        """The lane of a messenger integration's callback, made if it is new."""
        lane = lane_of("messenger", name)
        async with self._sessions() as session:
            with contextlib.suppress(IntegrityError):  # made by a racing request: as good
                await ensure_lane(session, lane, room_id)
        self.touch(lane, room_id)
        return lane

    def _track(self, lane: str, room_id: str) -> None:
        self._rooms.setdefault(room_id, set()).add(lane)
        if lane in self._workers:
            return
        sender = self.senders.get(split_lane(lane)[0])
        if sender is None:
            if lane not in self._unsendable:
                self._unsendable.add(lane)
                log.warning("lane %s: that bridge is not configured; its messages wait", lane)
            return
        worker = LaneWorker(lane, self.store, sender, poll=self._poll, retry_max=self._retry_max)
        self._workers[lane] = worker
        worker.start()

    async def _refresh(self) -> None:
        for integration in await self.integrations.with_callbacks():
            assert integration.room_id is not None
            await self.messenger_lane(integration.name, integration.room_id)
        lanes = await self.store.lanes()
        known = {lane.lane for lane in lanes}
        for lane in lanes:
            self._track(lane.lane, lane.room_id)
        for gone in set(self._workers) - known:  # unlinked
            await self._workers.pop(gone).stop()
            for room_lanes in self._rooms.values():
                room_lanes.discard(gone)

    async def _poll_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self._poll)
            ticks += 1
            try:
                await self._refresh()
                for lane in await self.store.lanes_with_work():
                    worker = self._workers.get(lane)
                    if worker is not None:
                        worker.wake()
                if ticks % 1000 == 1:
                    await self.store.forget_events(EVENT_MEMORY)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bridges poll failed")
