"""Buttons: the hub remembers what each opaque action_id means, for whom, and until when.

A press is checked like a command: the button must belong to the room it is pressed in, be
unexpired and unused, and the presser must be allowed what it does. First press wins.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.database import run
from cmdb.tables import ButtonRecord, utcnow
from hub.exceptions import ActionExpired, UnknownAction
from hub.i18n import pick
from hub.rooms.voice import BOT_NAME, BotVoice
from protocol import Button, ButtonState

SpentState = Literal["USED", "CLOSED", "EXPIRED"]


class ButtonStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], ttl: float, voice: BotVoice
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._voice = voice

    async def create(
        self,
        *,
        room_id: str,
        command_code: str,
        label: str,
        created_by: str,
        params: dict[str, Any] | None = None,
        style: str = "default",
        ttl: float | None = None,
        task_id: str | None = None,
    ) -> Button:
        action_id = "A" + secrets.token_urlsafe(16)
        seconds = self._ttl if ttl is None else ttl
        record = ButtonRecord(
            action_id=action_id,
            room_id=room_id,
            command_code=command_code,
            task_id=task_id,
            params=params or {},
            created_by=created_by,
            expires_at=utcnow() + timedelta(seconds=seconds),
        )
        async with self._sessions() as session:
            session.add(record)
            await session.commit()
        return Button(
            label=label,
            action_id=action_id,
            command_code=command_code,
            style=style,  # type: ignore[arg-type]
        )

    async def lookup(self, room_id: str, action_id: str, lang: str) -> ButtonRecord:
        """The button, if it exists in this room and can still be pressed."""
        async with self._sessions() as session:
            record = await session.get(ButtonRecord, action_id)
        if record is None or record.room_id != room_id:
            raise UnknownAction(
                pick(lang, "이 방에 그런 버튼이 없습니다.", "There is no such button in this room.")
            )
        if record.used_at is not None:
            raise ActionExpired(
                pick(
                    lang,
                    f"이미 {record.used_by}님이 누른 버튼입니다.",
                    f"This button was already pressed by {record.used_by}.",
                )
            )
        if record.expires_at <= utcnow():
            raise ActionExpired(pick(lang, "만료된 버튼입니다.", "This button has expired."))
        return record

    async def claim(
        self, record: ButtonRecord, user: str, lang: str, also: Sequence[str] = ()
    ) -> None:
        """Mark a button used by `user`; only the first of concurrent presses gets through.

        `also`: buttons that go with it (a card's other choices), spent in the same
        transaction and announced in the same BUTTON_STATE.
        """
        now = utcnow()
        async with self._sessions() as session, session.begin():
            result = await run(
                session,
                sa.update(ButtonRecord)
                .where(
                    sa.column("action_id") == record.action_id,
                    sa.column("used_at").is_(None),
                    sa.column("expires_at") > now,
                )
                .values(used_at=now, used_by=user),
            )
            if result.rowcount != 1:
                raise ActionExpired(
                    pick(lang, "이미 처리된 버튼입니다.", "This button was already pressed.")
                )
            others = [a for a in also if a != record.action_id]
            if others:
                await run(
                    session,
                    sa.update(ButtonRecord)
                    .where(
                        sa.column("action_id").in_(others),
                        sa.column("room_id") == record.room_id,
                        sa.column("used_at").is_(None),
                    )
                    .values(used_at=now, used_by=user),
                )
        await self.announce(record.room_id, [record.action_id], "USED", user)
        if others:  # the card's other choices: its question is settled
            await self.announce(record.room_id, others, "CLOSED", user)

    async def announce(
        self, room_id: str, action_ids: list[str], state: SpentState, user: str
    ) -> None:
        """Tell the room (and whoever joins later) that these buttons are spent."""
        await self._voice.post(
            ButtonState(
                room_id=room_id,
                sender=BOT_NAME,
                sender_type="SYSTEM",
                action_ids=action_ids,
                state=state,
                by=user,
            )
        )
