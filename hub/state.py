"""The composition root: everything one hub process holds, built and wired in one place.

Each service gets the few collaborators it uses in its constructor; nothing else in the hub
imports HubState except the endpoints, which take it from the app. The order below is the
order of the layers (docs/architecture.md): wire, rooms, audit, tasks, commands, bot (and
the proactive bot), intake, bridges.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import create_engine, session_factory, upgrade
from cmdb.message_log import frames_between
from hub.audit.anchor import write_head
from hub.audit.log import AuditLog
from hub.bot.feedback import FeedbackBook
from hub.bot.proactive import ProactiveBot, ProactiveSettings
from hub.bot.replies import Bot
from hub.bot.suggestion_buttons import SuggestionButtons
from hub.bot.suggestion_store import SuggestionStore
from hub.bridges.assembly import build_bridges
from hub.cluster.backplane import RedisBackplane
from hub.commands.approvals import ApprovalService
from hub.commands.button_router import ButtonRouter
from hub.commands.buttons import ButtonStore
from hub.commands.cancel import TaskCanceller
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.commands.pipeline import CommandPipeline
from hub.intake.actions import IncidentActions
from hub.intake.auth import IntegrationAuth
from hub.intake.card_records import CardRecords
from hub.intake.cards import CardPoster
from hub.intake.cause import CauseWriter
from hub.intake.memory import IncidentMemory, NoMemory
from hub.intake.recall import EmbeddedMemory, index_opener
from hub.intake.service import IntakeService
from hub.intake.store import IncidentStore
from hub.keys import load_audit_key, load_signing_key
from hub.ops import db_timing
from hub.ops.overview import OpsOverview
from hub.ops.presence import PresenceStamp
from hub.parser.llm import LlmSettings
from hub.rooms.directory import RoomDirectory
from hub.rooms.members import RoomMembers
from hub.rooms.sequencer import RoomSequencer
from hub.rooms.voice import BotVoice
from hub.rooms.writer import RoomWriter
from hub.settings import Settings
from hub.tasks.service import TaskService
from hub.tasks.steps import StepPlanner
from hub.tasks.store import TaskLimits, TaskStore
from hub.tasks.sweeper import Sweeper
from hub.wire.agent_links import AgentLinks
from hub.wire.agent_router import AgentRouter
from hub.wire.credentials import CredentialWatch
from hub.wire.peers import Peers

log = logging.getLogger("guardia.hub")

SERVER_VERSION = "0.1.0"


class HubState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(settings.database_url)
        db_timing.instrument(self.engine)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.signing_key = load_signing_key(settings.data_dir)

        # rooms: stored frames reach this hub's members, in seq order, also from other hubs
        self.sequencer = RoomSequencer(self._deliver, self._fetch_gap)
        self.members = RoomMembers(on_empty=self.sequencer.forget)
        self.writer = RoomWriter(
            self.sessions,
            self._stored,
            batch=settings.write_batch,
            persist=settings.persist_messages,
        )
        self.peers = Peers()
        self.links = AgentLinks(silence_limit=3 * settings.agent_ping_interval)
        self.backplane = (
            RedisBackplane(
                settings.redis_url,
                self.sequencer.offer,
                self.links.send,
                namespace=settings.redis_namespace,
                on_reconnect=self.sequencer.catch_up,
            )
            if settings.redis_url
            else None
        )
        self.agents = AgentRouter(self.links, self.backplane)
        self.voice = BotVoice(self.writer)
        self.audit = AuditLog(
            self.sessions,
            key=load_audit_key(settings.data_dir),
            on_stored=lambda head: write_head(
                settings.data_dir, head.seq, head.hash, self.signing_key
            ),
        )

        # tasks
        limits = TaskLimits(deadline=settings.task_deadline, dispatch_wait=settings.dispatch_wait)
        self.tasks = TaskService(
            TaskStore(self.sessions, limits), self.agents, self.voice, self.audit, self.signing_key
        )

        # commands, and the buttons their owners register
        self.rooms = RoomDirectory(self.sessions)
        self.buttons = ButtonStore(self.sessions, settings.button_ttl, self.voice)
        self.router = ButtonRouter(self.buttons, self.rooms, self.audit)
        self.approvals = ApprovalService(
            self.sessions, settings.approval_ttl, self.tasks, self.buttons, self.voice, self.audit
        )
        self.approvals.register_buttons(self.router)
        self.cmdb = CmdbSnapshot(self.sessions)
        self.canceller = TaskCanceller(self.tasks, self.voice, self.audit)
        self.canceller.register_buttons(self.router)
        self.pipeline = CommandPipeline(
            cmdb=self.cmdb,
            rooms=self.rooms,
            planner=StepPlanner(self.sessions, self.signing_key),
            tasks=self.tasks,
            approvals=self.approvals,
            canceller=self.canceller,
            buttons=self.buttons,
            voice=self.voice,
            audit=self.audit,
            llm_base_url=settings.llm_base_url,
        )
        self.pipeline.register_buttons(self.router)

        # the bot, which registers its own buttons
        self.bot = Bot(
            sessions=self.sessions,
            rooms=self.rooms,
            voice=self.voice,
            pipeline=self.pipeline,
            router=self.router,
            buttons=self.buttons,
            tasks=self.tasks,
            agents=self.agents,
        )
        # the proactive bot: hears ordinary chat, offers diagnostics; thumbs on the bot's cards
        self.proactive = ProactiveBot(
            store=SuggestionStore(self.sessions),
            rooms=self.rooms,
            cmdb=self.cmdb,
            buttons=self.buttons,
            voice=self.voice,
            settings=ProactiveSettings(
                enabled=settings.suggest,
                cooldown=settings.suggest_cooldown,
                mute=settings.suggest_mute,
                data_dir=settings.data_dir,
                chroma_url=settings.chroma_url,
                threads=settings.suggest_threads,
            ),
        )
        SuggestionButtons(
            bot=self.proactive,
            pipeline=self.pipeline,
            rooms=self.rooms,
            cmdb=self.cmdb,
            buttons=self.buttons,
            voice=self.voice,
            audit=self.audit,
        ).register_buttons(self.router)
        self.feedback = FeedbackBook(self.sessions)

        # incidents: what monitoring, applications and log watches report, made cards
        self.integrations = IntegrationAuth(self.sessions, settings.intake_max_bytes)
        self.incidents = IncidentStore(self.sessions, settings.incident_dedup_window)
        self.incident_memory: IncidentMemory = NoMemory()
        self.cards = CardPoster(
            CardRecords(self.sessions),
            self.voice,
            self.buttons,
            self.incident_memory,
            settings.incident_card_interval,
            self._node_facts,
        )
        self.incident_actions = IncidentActions(
            sessions=self.sessions,
            store=self.incidents,
            cards=self.cards,
            tasks=self.tasks,
            pipeline=self.pipeline,
            cmdb=self.cmdb,
            audit=self.audit,
            memory=self.incident_memory,
        )
        self.incident_actions.register_buttons(self.router)
        if settings.incident_memory:  # resolved incidents in the process's chromadb
            index = index_opener(settings.data_dir, settings.chroma_url)
            self.use_incident_memory(EmbeddedMemory(self.sessions, index))
        if settings.llm_base_url and (llm := LlmSettings.from_env()) is not None:
            self.cards.causes = CauseWriter(llm)  # a probable cause on new cards
        self.tasks.watch_endings(self.incident_actions.task_ended)
        self.intake = IntakeService(
            self.sessions, self.incidents, self.cards, self.incident_actions, self.cmdb
        )

        self.credentials = CredentialWatch(self.sessions, self.peers)
        # operations: agents' last frames in the database, the operations view
        self.presence = PresenceStamp(self.sessions, self.links)
        self.overview = OpsOverview(
            self.sessions,
            self.agents,
            self.links,
            heartbeat_interval=settings.agent_ping_interval,
            stuck_after=settings.ops_stuck_after,
        )
        self.sweeper = Sweeper(
            [
                self.credentials.check,
                self.approvals.sweep,
                self.tasks.sweep,
                self.cards.sweep,
                self.intake.flush_counts,
                self.presence.check,
                self.proactive.sweep,
            ]
        )

        # bridges: Slack, Mattermost and messenger webhooks in the same rooms
        self.bridges = build_bridges(
            settings,
            self.signing_key,
            self.sessions,
            submit=self.writer.submit,
            bot=self.bot,
            audit=self.audit,
            on_chat=self.proactive.read,
        )

    def use_incident_memory(self, memory: IncidentMemory) -> None:
        """Remember resolved incidents and name similar ones on new cards (hub/suggest's)."""
        self.incident_memory = memory
        self.cards.memory = memory
        self.incident_actions.memory = memory

    async def start(self) -> None:
        await upgrade(self.engine)
        if self.backplane is not None:
            await self.backplane.start()
        self.sweeper.start()
        await self.bridges.service.start()
        log.info("hub ready (database %s)", self.engine.url.render_as_string(hide_password=True))

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.bridges.service.stop()
        await self.cards.stop()
        await self.incident_memory.aclose()
        await self.intake.flush_counts()
        await self.incidents.close()
        await self.bot.stop()
        await self.proactive.stop()
        await self.pipeline.aclose()
        await self.writer.close()
        await self.audit.close()
        await self.sequencer.close()
        if self.backplane is not None:
            await self.backplane.stop()
        await self.engine.dispose()

    # -- room frames, from this hub's writer or another hub's --------------------------------

    def _stored(self, room_id: str, seq: int, frame: str) -> None:
        self.sequencer.offer(room_id, seq, frame)
        if self.backplane is not None:
            self.backplane.publish_room(room_id, seq, frame)
        # wakes the room's lanes; they read the frame from the database, off this path
        self.bridges.service.offer(room_id)

    def _deliver(self, room_id: str, seq: int, frame: str) -> None:
        self.members.room_broadcast(room_id, seq, frame)

    async def _node_facts(self, asset_code: str) -> tuple[bool, str] | None:
        return await self.incident_actions.node_facts(asset_code)

    async def _fetch_gap(self, room_id: str, after: int, before: int) -> list[tuple[int, str]]:
        async with self.sessions() as session:
            return await frames_between(session, room_id, after, before)
