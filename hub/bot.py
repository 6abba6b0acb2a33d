"""GUARDiA-Bot: answers what is addressed to it in a room, and what its buttons do.

Addressed means the content starts with `@guardia` or `@bot` (protocol.md). Button presses
come here too, dispatched by command_code through a table.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from cmdb.accounts import Identity
from cmdb.grants import parse_scope
from cmdb.inventory import nodes_by_code, nodes_in_scope
from cmdb.tables import ButtonRecord, Room
from hub.authorization import require_command
from hub.buttons import claim, create_button, lookup
from hub.exceptions import Forbidden, HubError, UnknownAction, UnknownRoom
from hub.i18n import lang_of, pick
from hub.tasks import BOT_NAME
from protocol import Chat, Error, TaskStep

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger("guardia.hub.bot")

_ADDRESS = re.compile(r"^\s*@(guardia|bot)\b[\s,:]*", re.IGNORECASE)

ButtonHandler = Callable[[Identity, ButtonRecord, str], Awaitable[None]]


def addressed_text(content: str) -> str | None:
    """The command part of a message addressed to the bot, or None if it is not."""
    match = _ADDRESS.match(content)
    return content[match.end() :].strip() if match else None


class Bot:
    def __init__(self, state: HubState) -> None:
        self.state = state
        self._tasks: set[asyncio.Task[None]] = set()
        self._button_handlers: dict[str, ButtonHandler] = {
            "CHECK_DISK_SPACE": self._run_read_only,
            "CLARIFY": lambda who, rec, lang: state.pipeline.on_clarify(who, rec, lang),
            "CANCEL_TASK": lambda who, rec, lang: state.pipeline.on_cancel_button(who, rec, lang),
            "APPROVE": lambda who, rec, lang: state.approvals.on_decision(who, rec, lang),
            "REJECT": lambda who, rec, lang: state.approvals.on_decision(who, rec, lang),
        }

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def say(self, room_id: str, text: str, **fields: object) -> None:
        await self.state.post(
            Chat(room_id=room_id, content=text, sender=BOT_NAME, sender_type="BOT", **fields)  # type: ignore[arg-type]
        )

    async def refuse(self, room_id: str, error: HubError, ref: str | None = None) -> None:
        """A refusal everyone in the room sees, pointing at the message that caused it."""
        await self.state.post(
            Error(
                room_id=room_id,
                sender=BOT_NAME,
                sender_type="SYSTEM",
                code=error.code,
                message=error.message,
                content=error.message,
                ref=ref,
            )
        )

    # -- messages addressed to the bot -----------------------------------------------------

    async def on_command(
        self, identity: Identity, room_id: str, text: str, ref: str | None = None
    ) -> None:
        lang = lang_of(text)
        try:
            if text.lower() in {"ping", "핑"}:
                await self._ping(identity, room_id, lang)
                return
            await self.state.pipeline.run(identity, room_id, text)
        except HubError as exc:
            await self.refuse(room_id, exc, ref)
        except Exception:
            log.exception("command %r of %s failed", text, identity.name)
            await self.say(
                room_id,
                pick(
                    lang,
                    "명령을 처리하다 내부 오류가 났습니다. 기록해 두었습니다.",
                    "An internal error stopped this command; it has been logged.",
                ),
            )

    async def _ping(self, identity: Identity, room_id: str, lang: str) -> None:
        """Answer with a disk-check button for the room's nodes: proves the whole path."""
        async with self.state.sessions() as session:
            room = await session.get(Room, room_id)
            if room is None:
                raise UnknownRoom(room_id)
            inst, system = parse_scope(room.scope)
            nodes = await nodes_in_scope(session, inst, system)
        online = set(await self.state.online_agents())
        targets = [n.asset_code for n, _ in nodes if n.agent_id in online] or [
            n.asset_code for n, _ in nodes
        ]
        if not targets:
            await self.say(room_id, pick(lang, "pong (등록된 서버가 없습니다)", "pong (no nodes)"))
            return
        button = await create_button(
            self.state,
            room_id=room_id,
            command_code="CHECK_DISK_SPACE",
            label=pick(lang, "디스크 확인", "Check disk space"),
            created_by=BOT_NAME,
            params={"nodes": targets, "lang": lang},
            style="primary",
        )
        await self.say(
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
        record = await lookup(self.state, room_id, action_id, lang)
        handler = self._button_handlers.get(record.command_code)
        if handler is None:
            raise UnknownAction(f"unknown command {record.command_code}")
        try:
            await handler(identity, record, lang)
        except Forbidden as exc:
            await self.state.audit(
                identity.name,
                "refused",
                {"button": record.command_code, "reason": exc.message},
                record.task_id,
            )
            raise

    async def _run_read_only(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        """A read-only action on the button's nodes, one task per agent."""
        lang = str(record.params.get("lang", lang))
        async with self.state.sessions() as session:
            nodes = await nodes_by_code(session, list(record.params.get("nodes", [])))
        for node, inst in nodes:
            require_command(identity, inst, node.system_code, lang)
        await claim(self.state, record, identity.name, lang)
        by_agent: dict[str, list[TaskStep]] = defaultdict(list)
        for node, _ in nodes:
            by_agent[node.agent_id].append(
                TaskStep(action=record.command_code, node=node.asset_code, params={})
            )
        for agent_id, steps in by_agent.items():
            task = await self.state.tasks.create(
                room_id=record.room_id,
                requested_by=identity.name,
                agent_id=agent_id,
                steps=steps,
                lang=lang,
                cause=f"button {record.command_code} pressed by {identity.name}",
            )
            await self.state.tasks.dispatch(task)
