"""A suggestion as the room sees it: the bot's CHAT in the writer's language, its buttons,
and its record, written before the card is posted (a press always finds its suggestion).

Buttons (all with params `suggestion`; they stay pressable for the cooldown, after which an
unanswered suggestion counts as ignored): run it (`command_code` = the action) or, when the
line named no system, one per system of the room (params `system` too); Dismiss; Mute.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from cmdb.index import CmdbIndex
from cmdb.tables import Room
from hub.bot.suggestion_store import NewSuggestion, SuggestionStore, new_suggestion_id
from hub.commands.buttons import ButtonStore
from hub.i18n import pick
from hub.rooms.voice import BOT_NAME, BotVoice
from protocol import Button, Chat, Message, new_message_id

if TYPE_CHECKING:
    from hub.suggest.detector import Suggestion

log = logging.getLogger("guardia.hub.suggest")


def duration_words(seconds: float, lang: str) -> str:
    """'1시간' / '1 h', '5분' / '5 min', '30초' / '30 s': a mute's length as people say it."""
    if seconds >= 3600 and seconds % 3600 == 0:
        n = int(seconds // 3600)
        return pick(lang, f"{n}시간", f"{n} h")
    if seconds >= 60 and seconds % 60 == 0:
        n = int(seconds // 60)
        return pick(lang, f"{n}분", f"{n} min")
    n = round(seconds)
    return pick(lang, f"{n}초", f"{n} s")


class SuggestionCard:
    def __init__(
        self,
        store: SuggestionStore,
        buttons: ButtonStore,
        voice: BotVoice,
        cooldown: float,
        mute: float,
    ) -> None:
        self._store = store
        self._buttons = buttons
        self._voice = voice
        self._cooldown = cooldown
        self._mute = mute

    async def _button(
        self, room: Room, code: str, label: str, params: dict[str, Any], style: str = "default"
    ) -> Button:
        return await self._buttons.create(
            room_id=room.id,
            command_code=code,
            label=label,
            created_by=BOT_NAME,
            params=params,
            style=style,
            ttl=self._cooldown,
        )

    async def post(
        self,
        message: Message,
        room: Room,
        found: Suggestion,
        choices: list[tuple[str, str]],
        index: CmdbIndex,
    ) -> None:
        """Post `found` for the line `message` (choices: (label, system code) or none)."""
        from hub.suggest.message import render

        lang = found.lang
        suggestion_id = new_suggestion_id()
        params: dict[str, Any] = {"suggestion": suggestion_id}
        if choices:
            buttons = [
                await self._button(room, found.action, label, {**params, "system": code}, "primary")
                for label, code in choices
            ]
        else:
            run = pick(lang, "즉시 확인", "Check now")
            buttons = [await self._button(room, found.action, run, params, "primary")]
        mute = duration_words(self._mute, lang)
        buttons += [
            await self._button(
                room, "DISMISS_SUGGESTION", pick(lang, "괜찮아요", "Dismiss"), params
            ),
            await self._button(
                room,
                "MUTE_SUGGESTIONS",
                pick(lang, f"이 방에서 {mute} 끄기", f"Mute {mute}"),
                params,
            ),
        ]
        chat = Chat(
            message_id=new_message_id(),
            room_id=room.id,
            content=render(found.kind, found.plan, lang, index, tuple(c for _, c in choices)),
            sender=BOT_NAME,
            sender_type="BOT",
            is_widget=True,
            interactive_actions=buttons,
        )
        await self._store.add(
            NewSuggestion(
                id=suggestion_id,
                room_id=room.id,
                kind=found.kind,
                action=found.action,
                text=message.content,
                sender=message.sender or "",
                lang=lang,
                score=found.score,
                plan=found.plan.model_dump(mode="json"),
                message_id=chat.message_id,
                action_ids=[b.action_id for b in buttons],
                lifetime=self._cooldown,
            )
        )
        await self._voice.post(chat)
        log.info("suggested %s (%s) in room %s", found.kind, suggestion_id, room.id)
