"""What comes in from a bridge: lines stored in the room, commands and presses as the user.

The identity of a bridged person comes from their link alone (hub/bridges/links.py). Once
known, a command goes to the same `Bot.on_command` as one typed in the web app, and a press
to the same `Bot.on_action`, so the parser, permissions, approvals, first-press-wins and the
audit chain are the web app's. The unlinked may talk, not act: they are told why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from hub.audit.log import AuditLog
from hub.bot.replies import Bot, CommandOutcome
from hub.bridges.lanes import split_lane
from hub.bridges.links import identity_of, room_of
from hub.bridges.service import BridgeService
from hub.bridges.wording import not_linked
from hub.exceptions import HubError
from hub.i18n import lang_of
from protocol import Chat, Message

log = logging.getLogger("guardia.hub.bridges")

Submit = Callable[[Message], "asyncio.Future[Message]"]


@dataclass(frozen=True)
class Heard:
    """A line taken in: where it went, who said it, and what became of its command."""

    room_id: str
    identity: Identity | None
    stored: Message
    #: why a command was not run (the unlinked), in the sender's language
    refusal: str | None = None


class BridgeInbound:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        submit: Submit,
        bot: Bot,
        audit: AuditLog,
        service: BridgeService,
        on_chat: Callable[[Message], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._submit = submit
        self._bot = bot
        self._audit = audit
        self.service = service
        #: ordinary lines, once stored, for the proactive bot to read
        self._on_chat = on_chat

    async def room(self, lane: str) -> str | None:
        async with self._sessions() as session:
            return await room_of(session, lane)

    async def who(self, bridge: str, external_id: str) -> Identity | None:
        async with self._sessions() as session:
            return await identity_of(session, bridge, external_id)

    async def said(
        self,
        lane: str,
        room_id: str,
        external_user: str,
        content: str,
        command: str | None,
    ) -> Heard:
        """Store a line said on a lane in its room; its command is not yet run."""
        bridge = split_lane(lane)[0]
        identity = await self.who(bridge, external_user)
        stored = await self._submit(
            Chat(
                room_id=room_id,
                content=content,
                # from the link, never from a name in the payload
                sender=identity.name if identity else f"{bridge}:{external_user}",
                sender_type="HUMAN",
                via=lane,
            )
        )
        if command is None and self._on_chat is not None:
            self._on_chat(stored)
        refusal = None
        if command is not None and identity is None:
            refusal = not_linked(bridge, external_user, lang_of(command), "command")
        return Heard(room_id, identity, stored, refusal)

    async def command(
        self, lane: str, heard: Heard, external_user: str, text: str
    ) -> CommandOutcome:
        """Run a heard line's command as its linked user, through the bot like the web app."""
        assert heard.identity is not None
        await self._audit.append(
            heard.identity.name,
            "bridged",
            {"via": lane, "account": external_user, "what": "command"},
        )
        return await self._bot.on_command(
            heard.identity, heard.room_id, text, heard.stored.message_id
        )

    async def press(
        self, lane: str, room_id: str, external_user: str, action_id: str, lang: str
    ) -> str | None:
        """Press a button as the linked user; returns why not, for the presser alone."""
        bridge = split_lane(lane)[0]
        identity = await self.who(bridge, external_user)
        if identity is None:
            return not_linked(bridge, external_user, lang, "press")
        await self._audit.append(
            identity.name, "bridged", {"via": lane, "account": external_user, "what": "press"}
        )
        try:
            await self._bot.on_action(identity, room_id, action_id, lang)
        except HubError as exc:
            return exc.message
        return None

    def spawn(self, work: Awaitable[None]) -> None:
        self._bot.spawn(work)
