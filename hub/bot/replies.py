"""GUARDiA-Bot: answers what is addressed to it in a room, and runs its own buttons.

Addressed means the content starts with `@guardia` or `@bot` (protocol.md). Presses of any
button come through the bot to the ButtonRouter, where each button's owner registered it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from cmdb.grants import parse_scope
from cmdb.inventory import nodes_by_code, nodes_in_scope
from cmdb.tables import ButtonRecord, Task
from hub.commands.authorization import require_command
from hub.commands.button_router import ButtonRouter
from hub.commands.buttons import ButtonStore
from hub.commands.pipeline import CommandPipeline
from hub.commands.room_scope import require_commandable, require_in_room
from hub.exceptions import HubError, UnknownRoom
from hub.i18n import lang_of, pick
from hub.rooms.directory import RoomDirectory
from hub.rooms.voice import BOT_NAME, BotVoice
from hub.tasks.service import TaskService
from hub.wire.agent_router import AgentRouter
from protocol import TaskStep

log = logging.getLogger("guardia.hub.bot")

_ADDRESS = re.compile(r"^\s*@(guardia|bot)\b[\s,:]*", re.IGNORECASE)


def addressed_text(content: str) -> str | None:
    """The command part of a message addressed to the bot, or None if it is not."""
    match = _ADDRESS.match(content)
    return content[match.end() :].strip() if match else None


@dataclass
class CommandOutcome:
    """What a command came to, for callers that answer elsewhere than the room (bridges)."""

    tasks: list[Task] = field(default_factory=list)
    #: the refusal the room was told, if the command was refused
    refusal: str | None = None


class Bot:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        rooms: RoomDirectory,
        voice: BotVoice,
        pipeline: CommandPipeline,
        router: ButtonRouter,
        buttons: ButtonStore,
        tasks: TaskService,
        agents: AgentRouter,
    ) -> None:
        self._sessions = sessions
        self._rooms = rooms
        self.voice = voice
        self._pipeline = pipeline
        self._router = router
        self._buttons = buttons
        self._tasks = tasks
        self._agents = agents
        self._background: set[asyncio.Task[None]] = set()
        router.register("CHECK_DISK_SPACE", self._run_read_only)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()

    def spawn(self, coro: Awaitable[None]) -> None:
        """Work that must not hold up the socket that caused it."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- messages addressed to the bot -----------------------------------------------------

    async def on_command(
        self, identity: Identity, room_id: str, text: str, ref: str | None = None
    ) -> CommandOutcome:
        lang = lang_of(text)
        try:
            if text.lower() in {"ping", "핑"}:
                await self._ping(room_id, lang)
                return CommandOutcome()
            return CommandOutcome(tasks=await self._pipeline.run(identity, room_id, text))
        except HubError as exc:
            await self.voice.refuse(room_id, exc, ref)
            return CommandOutcome(refusal=exc.message)
        except Exception:
            log.exception("command %r of %s failed", text, identity.name)
            said = pick(
                lang,
                "명령을 처리하다 내부 오류가 났습니다. 기록해 두었습니다.",
                "An internal error stopped this command; it has been logged.",
            )
            await self.voice.say(room_id, said)
            return CommandOutcome(refusal=said)

    async def _ping(self, room_id: str, lang: str) -> None:
        """Answer with a disk-check button for the room's nodes: proves the whole path."""
        room = await self._rooms.get(room_id)
        if room is None:
            raise UnknownRoom(room_id)
        require_commandable(room, lang)
        inst, system = parse_scope(room.scope)
        async with self._sessions() as session:
            nodes = await nodes_in_scope(session, inst, system)
        online = set(await self._agents.online())
        targets = [n.asset_code for n, _ in nodes if n.agent_id in online] or [
            n.asset_code for n, _ in nodes
        ]
        if not targets:
            await self.voice.say(
                room_id, pick(lang, "pong (등록된 서버가 없습니다)", "pong (no nodes)")
            )
            return
        button = await self._buttons.create(
            room_id=room_id,
            command_code="CHECK_DISK_SPACE",
            label=pick(lang, "디스크 확인", "Check disk space"),
            created_by=BOT_NAME,
            params={"nodes": targets, "lang": lang},
            style="primary",
        )
        await self.voice.say(
            room_id,
            pick(
                lang,
                f"pong. {len(targets)}대 서버의 디스크를 확인할까요?",
                f"pong. Check the disk space of {len(targets)} node(s)?",
            ),
            is_widget=True,
            interactive_actions=[button],
        )

    # -- button presses --------------------------------------------------------------------

    async def on_action(self, identity: Identity, room_id: str, action_id: str, lang: str) -> None:
        await self._router.press(identity, room_id, action_id, lang)

    async def _run_read_only(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        """A read-only action on the button's nodes, one task per agent."""
        lang = str(record.params.get("lang", lang))
        room = await self._rooms.get(record.room_id)
        if room is None:
            raise UnknownRoom(record.room_id)
        async with self._sessions() as session:
            nodes = await nodes_by_code(session, list(record.params.get("nodes", [])))
        for node, inst in nodes:
            require_in_room(room, inst, node.system_code, lang)
            require_command(identity, inst, node.system_code, lang)
        await self._buttons.claim(record, identity.name, lang)
        by_agent: dict[str, list[TaskStep]] = defaultdict(list)
        for node, _ in nodes:
            by_agent[node.agent_id].append(
                TaskStep(action=record.command_code, node=node.asset_code, params={})
            )
        for agent_id, steps in by_agent.items():
            task = await self._tasks.store.create(
                room_id=record.room_id,
                requested_by=identity.name,
                agent_id=agent_id,
                steps=steps,
                lang=lang,
                cause=f"button {record.command_code} pressed by {identity.name}",
            )
            await self._tasks.dispatch(task)
