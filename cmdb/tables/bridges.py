"""Bridges to other messengers (hub/bridges): lanes, user links, the outbox, cards, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cmdb.tables.base import utcnow


class BridgeLink(SQLModel, table=True):
    """A lane: a Slack or Mattermost channel, or a messenger integration's callback, bound to
    a room. `last_seq` is how far the room's log has been turned into outbound messages."""

    __tablename__ = "bridge_links"

    #: "slack:C0123", "mattermost:abc123", "messenger:NAME"
    lane: str = Field(primary_key=True, max_length=200)
    room_id: str = Field(foreign_key="rooms.id", index=True, max_length=64)
    last_seq: int = 0
    #: which hub process works the lane now, and until when (several hubs share the database)
    lease_holder: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class BridgeUserLink(SQLModel, table=True):
    """Who a person of another messenger is here: the only source of a bridged identity."""

    __tablename__ = "bridge_user_links"

    #: "slack:U0123", "mattermost:abc123", "messenger:ID"
    external_id: str = Field(primary_key=True, max_length=200)
    user_name: str = Field(foreign_key="users.name", index=True, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class BridgeOutbox(SQLModel, table=True):
    """One message waiting to go out on a lane; lanes send strictly in id order."""

    __tablename__ = "bridge_outbox"

    id: int | None = Field(default=None, primary_key=True)
    lane: str = Field(index=True, max_length=200)
    #: "post" (a new message), "card" (create or update the message of `card`), "notice"
    #: (to one person only)
    op: str = Field(max_length=16)
    card: str | None = Field(default=None, max_length=100)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    attempts: int = 0
    next_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class BridgeCard(SQLModel, table=True):
    """A message kept up to date in place on a lane (a task's plan, progress and result)."""

    __tablename__ = "bridge_cards"

    lane: str = Field(primary_key=True, max_length=200)
    #: "<task_id>:plan" or "<task_id>:approval"
    card: str = Field(primary_key=True, max_length=100)
    #: what the card shows, as structured data (rendered per bridge when it is sent)
    state: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    #: the other side's id of the message once posted (Slack `ts`, Mattermost post id)
    remote_id: str | None = Field(default=None, max_length=100)
    updated_at: datetime = Field(default_factory=utcnow)


class BridgeEvent(SQLModel, table=True):
    """An inbound event already taken: Slack retries and duplicate deliveries stop here."""

    __tablename__ = "bridge_events"

    key: str = Field(primary_key=True, max_length=255)
    received_at: datetime = Field(default_factory=utcnow, index=True)
