"""The proactive bot's record and feedback on the bot's answers (hub/bot)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cmdb.tables.base import _json, utcnow


class SuggestionRecord(SQLModel, table=True):
    """A suggestion the bot made in a room, and what became of it (its learning record)."""

    __tablename__ = "suggestions"

    id: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(foreign_key="rooms.id", index=True, max_length=64)
    kind: str = Field(max_length=32, index=True)
    action: str = Field(max_length=64)
    #: the chat line it answered, and who wrote it in which language
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    sender: str = Field(max_length=128)
    lang: str = Field(max_length=8)
    score: float
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    #: the bot's stored CHAT, and the action_ids of its buttons
    message_id: str | None = Field(default=None, max_length=128)
    action_ids: list[str] = _json()
    #: pressed | dismissed | muted | ignored (neither pressed nor dismissed by expires_at)
    outcome: str | None = Field(default=None, max_length=16, index=True)
    outcome_by: str | None = Field(default=None, max_length=128)
    outcome_at: datetime | None = None
    task_ids: list[str] = _json()
    expires_at: datetime = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)


class SuggestionCooldown(SQLModel, table=True):
    """One suggestion per room per kind until `until`: claimed by one conditional write."""

    __tablename__ = "suggestion_cooldowns"

    room_id: str = Field(primary_key=True, foreign_key="rooms.id", max_length=64)
    kind: str = Field(primary_key=True, max_length=32)
    until: datetime


class RoomMute(SQLModel, table=True):
    """A room where the bot makes no suggestions until `until` (its Mute button)."""

    __tablename__ = "room_mutes"

    room_id: str = Field(primary_key=True, foreign_key="rooms.id", max_length=64)
    until: datetime
    muted_by: str = Field(max_length=128)
    muted_at: datetime = Field(default_factory=utcnow)


class CardFeedback(SQLModel, table=True):
    """A person's thumbs up or down on a bot card: one vote per person per card, changeable."""

    __tablename__ = "feedback"
    __table_args__ = (sa.Index("ix_feedback_room_user", "room_id", "user_name"),)

    #: the card's stored message (COMMAND_PLAN or TASK_FINISHED)
    message_id: str = Field(primary_key=True, max_length=128)
    user_name: str = Field(primary_key=True, foreign_key="users.name", max_length=128)
    room_id: str = Field(foreign_key="rooms.id", max_length=64)
    msg_type: str = Field(max_length=32)
    task_id: str | None = Field(default=None, max_length=64, index=True)
    helpful: bool = Field(index=True)
    #: the plan the card showed, and the command it answered when the hub knows it
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    text: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
