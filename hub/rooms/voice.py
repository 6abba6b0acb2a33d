"""How the bot speaks in rooms: every frame it posts goes through the room writer."""

from __future__ import annotations

from typing import Any, Protocol

from hub.exceptions import HubError
from protocol import Chat, Error, Message

BOT_NAME = "GUARDiA-Bot"


class RoomPoster(Protocol):
    """Stores a room frame and broadcasts it (RoomWriter is the real one)."""

    async def post(self, message: Message) -> Message: ...


class BotVoice:
    def __init__(self, poster: RoomPoster) -> None:
        self._poster = poster

    async def post(self, message: Message) -> Message:
        """Store a room frame and broadcast it: the one way anything reaches a room."""
        return await self._poster.post(message)

    async def say(self, room_id: str, text: str, **fields: Any) -> None:
        await self._poster.post(
            Chat(room_id=room_id, content=text, sender=BOT_NAME, sender_type="BOT", **fields)
        )

    async def refuse(self, room_id: str, error: HubError, ref: str | None = None) -> None:
        """A refusal everyone in the room sees, pointing at the message that caused it."""
        await self._poster.post(
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
