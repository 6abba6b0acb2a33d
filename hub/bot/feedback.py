"""Thumbs up and down on the bot's cards: one vote per person per card, changeable.

A vote is stored with the card (its stored message), the plan it showed and the command it
answered, so thumbs-down commands can become parser test cases (`guardia parse
--export-feedback`). Nothing is said in the room: a vote is the voter's own, and it comes
back to them alone, on JOINED (`votes`).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from cmdb.tables import AuditEvent, CardFeedback, Task, utcnow
from cmdb.tables import Message as MessageRow
from hub.exceptions import BadFrame
from hub.i18n import pick
from hub.rooms.voice import BOT_NAME
from hub.tasks.store import task_scope

#: the cards that carry thumbs: a plan, and a task's result
CARD_TYPES = ("COMMAND_PLAN", "TASK_FINISHED")
#: votes handed back on JOINED, newest first
VOTES_RETURNED = 1000
#: parse entries looked through for the command a task came from
_PARSES_SEARCHED = 50


async def command_text(session: AsyncSession, task: Task) -> str | None:
    """The sentence a task's plan was parsed from, from the audit chain's `parse` entry.

    The newest parse by the requester, in the plan's scope, before the task, whose plan is
    the task's; None for a task no typed command made (a suggestion's button, a ping).
    """
    rows = await session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.scope) == task_scope(task),
            col(AuditEvent.kind) == "parse",
            col(AuditEvent.actor) == task.requested_by,
            col(AuditEvent.at) <= task.created_at,
        )
        .order_by(col(AuditEvent.seq).desc())
        .limit(_PARSES_SEARCHED)
    )
    wanted = orjson.dumps(task.plan, option=orjson.OPT_SORT_KEYS)
    for event in rows:
        plan = event.detail.get("plan")
        if plan is not None and orjson.dumps(plan, option=orjson.OPT_SORT_KEYS) == wanted:
            text = event.detail.get("text")
            return str(text) if text is not None else None
    return None


class FeedbackBook:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self, identity: Identity, room_id: str, target: str, helpful: bool, lang: str
    ) -> None:
        """Store (or change) `identity`'s vote on the card `target` of the room."""
        async with self._sessions() as session:
            card = (
                await session.exec(
                    select(MessageRow).where(
                        col(MessageRow.room_id) == room_id, col(MessageRow.message_id) == target
                    )
                )
            ).first()
            if card is None or card.msg_type not in CARD_TYPES or card.sender != BOT_NAME:
                raise BadFrame(
                    pick(
                        lang,
                        f"target_message_id: 이 방의 봇 카드가 아닙니다: {target}",
                        f"target_message_id: {target} is not a bot card of this room",
                    )
                )
            frame: dict[str, Any] = orjson.loads(card.frame)
            task_id = frame.get("task_id")
            task = await session.get(Task, task_id) if isinstance(task_id, str) else None
            plan = frame.get("plan") or (task.plan if task is not None else {})
            text = await command_text(session, task) if task is not None else None
            values: dict[str, Any] = {
                "room_id": room_id,
                "msg_type": card.msg_type,
                "task_id": task_id if isinstance(task_id, str) else None,
                "helpful": helpful,
                "plan": plan,
                "text": text,
                "updated_at": utcnow(),
            }
        for _ in range(2):
            async with self._sessions() as session:
                vote = await session.get(CardFeedback, (target, identity.name))
                if vote is None:
                    session.add(CardFeedback(message_id=target, user_name=identity.name, **values))
                else:
                    for key, value in values.items():
                        setattr(vote, key, value)
                try:
                    await session.commit()
                    return
                except IntegrityError:
                    continue  # the same person voted at once from another socket: update it

    async def votes(self, user: str, room_id: str) -> dict[str, bool]:
        """`user`'s own votes on the room's cards, {message_id: helpful}, newest first."""
        async with self._sessions() as session:
            rows = await session.exec(
                select(CardFeedback.message_id, CardFeedback.helpful)
                .where(col(CardFeedback.room_id) == room_id, col(CardFeedback.user_name) == user)
                .order_by(col(CardFeedback.updated_at).desc())
                .limit(VOTES_RETURNED)
            )
            return {message_id: helpful for message_id, helpful in rows}
