"""Everything one hub process holds while it runs, started and stopped with the app."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.audit import append as append_audit
from cmdb.database import create_engine, session_factory, upgrade
from cmdb.message_log import frames_between
from hub.agent_links import AgentLinks
from hub.backplane import RedisBackplane
from hub.room_sequencer import RoomSequencer
from hub.room_writer import RoomWriter
from hub.rooms import RoomMembers
from hub.settings import Settings
from protocol import Message
from protocol.signing import (
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_to_pem,
)

log = logging.getLogger("guardia.hub")

SERVER_VERSION = "0.1.0"


def load_signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The hub's Ed25519 task-signing key, made on first start; hub.pub is for agents."""
    data_dir.mkdir(parents=True, exist_ok=True)
    private = data_dir / "hub_signing_key.pem"
    if private.exists():
        key = load_private_key(private.read_bytes())
    else:
        key = generate_private_key()
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_key_to_pem(key))
    (data_dir / "hub.pub").write_bytes(public_key_to_pem(key.public_key()))
    return key


class HubState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.sequencer = RoomSequencer(self._deliver, self._fetch_gap)
        self.members = RoomMembers(on_empty=self.sequencer.forget)
        self.writer = RoomWriter(
            self.sessions,
            self._stored,
            batch=settings.write_batch,
            persist=settings.persist_messages,
        )
        self.agents = AgentLinks(silence_limit=3 * settings.agent_ping_interval)
        self.backplane = (
            RedisBackplane(
                settings.redis_url,
                self.sequencer.offer,
                self.agents.send,
                namespace=settings.redis_namespace,
            )
            if settings.redis_url
            else None
        )
        self.signing_key = load_signing_key(settings.data_dir)
        self._audit_lock = asyncio.Lock()
        # the command side is built last: it needs the rest of the state
        from hub.tasks import TaskService

        self.tasks = TaskService(self)
        from hub.bot import Bot

        self.bot = Bot(self)
        from hub.approvals import ApprovalService
        from hub.cmdb_snapshot import CmdbSnapshot
        from hub.pipeline import CommandPipeline

        self.approvals = ApprovalService(self)
        self.cmdb = CmdbSnapshot(self.sessions)
        self.pipeline = CommandPipeline(self)

    async def start(self) -> None:
        await upgrade(self.engine)
        if self.backplane is not None:
            await self.backplane.start()
        await self.tasks.start()
        log.info("hub ready (database %s)", self.engine.url.render_as_string(hide_password=True))

    async def stop(self) -> None:
        await self.tasks.stop()
        await self.bot.stop()
        await self.pipeline.aclose()
        await self.writer.close()
        await self.sequencer.close()
        if self.backplane is not None:
            await self.backplane.stop()
        await self.engine.dispose()

    async def post(self, message: Message) -> Message:
        """Store a room frame and broadcast it: the one way anything reaches a room."""
        return await self.writer.post(message)

    async def audit(
        self, actor: str, kind: str, detail: dict[str, Any], task_id: str | None = None
    ) -> None:
        """Append a decision or outcome to the audit chain (one append at a time per hub)."""
        async with self._audit_lock, self.sessions() as session:
            await append_audit(session, actor, kind, detail, task_id)

    # -- room frames, from this hub's writer or another hub's --------------------------------

    def _stored(self, room_id: str, seq: int, frame: str) -> None:
        self.sequencer.offer(room_id, seq, frame)
        if self.backplane is not None:
            self.backplane.publish_room(room_id, seq, frame)

    def _deliver(self, room_id: str, seq: int, frame: str) -> None:
        self.members.room_broadcast(room_id, seq, frame)

    async def _fetch_gap(self, room_id: str, after: int, before: int) -> list[tuple[int, str]]:
        async with self.sessions() as session:
            return await frames_between(session, room_id, after, before)

    # -- agents, on this hub or (with Redis) on another -------------------------------------

    async def send_to_agent(self, agent_id: str, frame: str) -> bool:
        if self.agents.send(agent_id, frame):
            return True
        if self.backplane is not None:
            return await self.backplane.send_to_agent(agent_id, frame)
        return False

    async def agent_online(self, agent_id: str) -> bool:
        if self.agents.get(agent_id) is not None:
            return True
        return self.backplane is not None and await self.backplane.agent_online(agent_id)

    async def online_agents(self) -> list[str]:
        local = set(self.agents.online())
        if self.backplane is not None:
            local |= set(await self.backplane.online_agents())
        return sorted(local)

    async def agent_ready(self, agent_id: str) -> None:
        if self.backplane is not None:
            await self.backplane.agent_attached(agent_id)

    async def agent_gone(self, agent_id: str) -> None:
        if self.backplane is not None:
            await self.backplane.agent_detached(agent_id)
