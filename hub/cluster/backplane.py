"""Several hubs as one (GUARDIA_REDIS_URL): room frames, agent frames and agent presence.

- Every stored room frame is published on `<namespace>:room:<room>`; every hub hands it to its
  own members through the room sequencer (order and gaps are handled there).
- A frame for an agent held by another hub goes on `<namespace>:agent:<agent>`; the hub that
  holds the agent subscribes to that channel while it does.
- `<namespace>:presence:<agent>` names the hub holding the agent, with a TTL refreshed while the
  link lives, so a hub that dies stops claiming its agents within a TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as redis

from hub.ops.redis_timing import TimedRedis
from protocol import Ping, encode

log = logging.getLogger("guardia.hub.backplane")

PRESENCE_TTL = 30
PING_FRAME = encode(Ping())
PRESENCE_REFRESH = 10.0

RESUBSCRIBE_RETRY = 0.5

RoomFrame = Callable[[str, int, str], None]
AgentFrame = Callable[[str, str], bool]
Reconnected = Callable[[], Awaitable[None]]


async def _nothing_to_do() -> None:
    return None


class RedisBackplane:
    def __init__(
        self,
        url: str,
        on_room_frame: RoomFrame,
        on_agent_frame: AgentFrame,
        namespace: str = "guardia",
        on_reconnect: Reconnected = _nothing_to_do,
    ) -> None:
        self.hub_id = uuid.uuid4().hex[:12]
        # Pub/Sub ignores Redis database numbers: a namespace keeps sites (and tests) apart
        self.room_prefix = f"{namespace}:room:"
        self.agent_prefix = f"{namespace}:agent:"
        self.presence_prefix = f"{namespace}:presence:"
        # every call timed into guardia_redis_call_seconds
        self._redis: Any = TimedRedis(redis.Redis.from_url(url))
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._on_room_frame = on_room_frame
        self._on_agent_frame = on_agent_frame
        self._on_reconnect = on_reconnect
        self._publish_failing = False
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._local_agents: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._redis.ping()
        await self._pubsub.psubscribe(self.room_prefix + "*")
        self._tasks = [
            asyncio.create_task(self._listen(), name="backplane-listen"),
            asyncio.create_task(self._publish(), name="backplane-publish"),
            asyncio.create_task(self._refresh_presence(), name="backplane-presence"),
        ]
        log.info("backplane up as hub %s", self.hub_id)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for agent_id in list(self._local_agents):
            await self.agent_detached(agent_id)
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def ping(self) -> None:
        """Raises if Redis does not answer (the readiness probe)."""
        await self._redis.ping()

    # -- rooms -------------------------------------------------------------------------

    def publish_room(self, room_id: str, seq: int, frame: str) -> None:
        """Queue a stored frame for the other hubs; never waits (called per message)."""
        payload = f"{self.hub_id}\n{seq}\n".encode() + frame.encode()
        self._outbox.put_nowait((self.room_prefix + room_id, payload))

    async def _publish(self) -> None:
        while True:
            channel, payload = await self._outbox.get()
            try:
                await self._redis.publish(channel, payload)
            except redis.RedisError as exc:
                # the frame is stored: other hubs catch up from the database once Redis is
                # back (on_reconnect); one line per outage, not one per message
                if not self._publish_failing:
                    log.warning("publishing to other hubs failed (%s); they will catch up", exc)
                self._publish_failing = True
            else:
                self._publish_failing = False

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    self._dispatch(message)
            except redis.RedisError as exc:
                log.warning("backplane connection lost (%s); resubscribing", exc)
                await self._resubscribe()

    async def _resubscribe(self) -> None:
        """Wait for Redis, subscribed again, then catch up on what was missed meanwhile.

        A ping on the Pub/Sub connection reconnects it, and redis-py subscribes a new
        connection to every channel and pattern again before the ping goes out: once it
        answers, nothing published from then on is missed, and whatever was published before
        is in the database, where `on_reconnect` reads it.
        """
        while True:
            await asyncio.sleep(RESUBSCRIBE_RETRY)
            try:
                await self._pubsub.ping()
            except redis.RedisError:
                continue
            break
        log.warning("backplane back; catching up from the database")
        try:
            await self._on_reconnect()
        except Exception:
            log.exception("catching up after the backplane outage failed")

    def _dispatch(self, message: dict[str, object]) -> None:
        channel = message.get("channel")
        data = message.get("data")
        if not isinstance(channel, bytes) or not isinstance(data, bytes):
            return
        name = channel.decode()
        if name.startswith(self.room_prefix):
            origin, seq, frame = data.split(b"\n", 2)
            if origin.decode() != self.hub_id:
                self._on_room_frame(name[len(self.room_prefix) :], int(seq), frame.decode())
        elif name.startswith(self.agent_prefix):
            self._on_agent_frame(name[len(self.agent_prefix) :], data.decode())

    # -- agents ------------------------------------------------------------------------

    async def agent_attached(self, agent_id: str) -> None:
        self._local_agents.add(agent_id)
        await self._pubsub.subscribe(self.agent_prefix + agent_id)
        await self._redis.set(self.presence_prefix + agent_id, self.hub_id, ex=PRESENCE_TTL)

    async def agent_detached(self, agent_id: str) -> None:
        self._local_agents.discard(agent_id)
        with contextlib.suppress(redis.RedisError):
            await self._pubsub.unsubscribe(self.agent_prefix + agent_id)
            key = self.presence_prefix + agent_id
            if await self._redis.get(key) == self.hub_id.encode():
                await self._redis.delete(key)

    async def held_elsewhere(self, agent_id: str) -> bool:
        """Whether another hub holds a live link for the agent right now.

        Presence alone outlives a hub that died (until its TTL), so the claim is checked by
        handing the agent a PING through its channel: only a live hub holding the link is
        subscribed to it, and the agent just answers PONG.
        """
        holder = await self._redis.get(self.presence_prefix + agent_id)
        if holder is None or holder == self.hub_id.encode():
            return False
        return await self.send_to_agent(agent_id, PING_FRAME)

    async def send_to_agent(self, agent_id: str, frame: str) -> bool:
        """Hand a frame to the hub holding the agent; False if no hub holds it."""
        receivers = int(await self._redis.publish(self.agent_prefix + agent_id, frame.encode()))
        return receivers > 0

    async def agent_online(self, agent_id: str) -> bool:
        return bool(await self._redis.exists(self.presence_prefix + agent_id))

    async def online_agents(self) -> list[str]:
        keys = [k.decode() async for k in self._redis.scan_iter(match=self.presence_prefix + "*")]
        return sorted(k[len(self.presence_prefix) :] for k in keys)

    async def _refresh_presence(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_REFRESH)
            for agent_id in list(self._local_agents):
                with contextlib.suppress(redis.RedisError):
                    await self._redis.set(
                        self.presence_prefix + agent_id, self.hub_id, ex=PRESENCE_TTL
                    )
