"""Everything one hub process holds while it runs, started and stopped with the app."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import create_engine, session_factory, upgrade
from hub.agent_links import AgentLinks
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
        self.members = RoomMembers()
        self.writer = RoomWriter(
            self.sessions,
            self.members.room_broadcast,
            batch=settings.write_batch,
            persist=settings.persist_messages,
        )
        self.agents = AgentLinks()
        self.signing_key = load_signing_key(settings.data_dir)
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
        await self.tasks.start()
        log.info("hub ready (database %s)", self.engine.url.render_as_string(hide_password=True))

    async def stop(self) -> None:
        await self.tasks.stop()
        await self.bot.stop()
        await self.pipeline.aclose()
        await self.writer.close()
        await self.engine.dispose()

    async def post(self, message: Message) -> Message:
        """Store a room frame and broadcast it: the one way anything reaches a room."""
        return await self.writer.post(message)
