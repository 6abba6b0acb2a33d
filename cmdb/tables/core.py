"""The core tables: the CMDB, who may do what, rooms and messages, tasks, approvals, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cmdb.tables.base import _json, utcnow


class Institution(SQLModel, table=True):
    __tablename__ = "institutions"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    aliases: list[str] = _json()
    position: int = 0  # file order, so export writes what import read


class System(SQLModel, table=True):
    __tablename__ = "systems"

    code: str = Field(primary_key=True, max_length=64)
    institution_code: str = Field(foreign_key="institutions.code", index=True, max_length=64)
    name: str = Field(max_length=200)
    aliases: list[str] = _json()
    position: int = 0


class Agent(SQLModel, table=True):
    __tablename__ = "agents"

    id: str = Field(primary_key=True, max_length=128)
    institution_code: str | None = Field(
        default=None, foreign_key="institutions.code", max_length=64
    )
    token_hash: str | None = Field(default=None, unique=True, max_length=64)
    revoked: bool = False
    #: the token stops working then (None: never)
    token_expires_at: datetime | None = None
    #: when the token was issued, rotated or revoked: hubs close sockets of changed principals
    credentials_changed_at: datetime | None = Field(default=None, index=True)
    #: the last frame a hub heard from it (stamped every few seconds while it is linked)
    last_seen: datetime | None = None
    #: the version its last AGENT_HELLO gave
    version: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    position: int = 0


class Node(SQLModel, table=True):
    __tablename__ = "nodes"

    asset_code: str = Field(primary_key=True, max_length=64)
    system_code: str = Field(foreign_key="systems.code", index=True, max_length=64)
    host: str = Field(max_length=255)
    port: int = 22
    layer: str = Field(max_length=8)
    env: str = Field(max_length=8)
    agent_id: str = Field(foreign_key="agents.id", index=True, max_length=128)
    services: list[str] = _json()
    position: int = 0


class User(SQLModel, table=True):
    __tablename__ = "users"

    name: str = Field(primary_key=True, max_length=128)
    token_hash: str = Field(unique=True, max_length=64)
    #: grants as "role" or "role:INST" or "role:INST/SYS"
    roles: list[str] = _json()
    is_bot: bool = False
    revoked: bool = False
    token_expires_at: datetime | None = None
    credentials_changed_at: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Room(SQLModel, table=True):
    __tablename__ = "rooms"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    scope: str | None = Field(default=None, max_length=130)
    #: the last seq handed out; messages reserve ranges from it atomically
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (sa.UniqueConstraint("room_id", "seq", name="uq_messages_room_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: str = Field(foreign_key="rooms.id", max_length=64)
    seq: int
    message_id: str = Field(max_length=128, index=True)
    msg_type: str = Field(max_length=32)
    sender: str = Field(max_length=128)
    #: the frame exactly as it was broadcast, replayed byte for byte
    frame: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ButtonRecord(SQLModel, table=True):
    """What a button's opaque action_id means: a client cannot forge one."""

    __tablename__ = "buttons"

    action_id: str = Field(primary_key=True, max_length=128)
    room_id: str = Field(foreign_key="rooms.id", max_length=64)
    command_code: str = Field(max_length=64)
    task_id: str | None = Field(default=None, max_length=64, index=True)
    params: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    created_by: str = Field(max_length=128)
    expires_at: datetime
    used_at: datetime | None = None
    used_by: str | None = Field(default=None, max_length=128)


class Task(SQLModel, table=True):
    __tablename__ = "tasks"

    id: str = Field(primary_key=True, max_length=64)
    room_id: str | None = Field(default=None, max_length=64, index=True)
    requested_by: str = Field(max_length=128)
    agent_id: str | None = Field(default=None, max_length=128, index=True)
    status: str = Field(max_length=32, index=True)
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    steps: list[dict[str, Any]] = _json()
    approved_by: list[str] = _json()
    results: list[dict[str, Any]] = _json()
    lang: str = Field(default="en", max_length=8)
    deadline: datetime | None = None
    dispatch_by: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class TaskEvent(SQLModel, table=True):
    """One transition of a task's state machine, with time and cause."""

    __tablename__ = "task_events"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(foreign_key="tasks.id", index=True, max_length=64)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    cause: str = Field(max_length=500)
    at: datetime = Field(default_factory=utcnow)


class Approval(SQLModel, table=True):
    __tablename__ = "approvals"

    task_id: str = Field(primary_key=True, foreign_key="tasks.id", max_length=64)
    requested_by: str = Field(max_length=128)
    scope: str | None = Field(default=None, max_length=130)
    expires_at: datetime
    decision: str | None = Field(default=None, max_length=16)
    decided_by: str | None = Field(default=None, max_length=128)
    decided_at: datetime | None = None


class Artifact(SQLModel, table=True):
    __tablename__ = "artifacts"

    id: str = Field(primary_key=True, max_length=64)
    filename: str = Field(max_length=255, index=True)
    sha256: str = Field(max_length=64)
    size: int
    path: str = Field(max_length=1024)
    uploaded_by: str = Field(max_length=128)
    #: the system it was uploaded for: only that system's deploys may use it
    system_code: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """An append-only hash chain: each entry holds the hash of the one before."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    #: position in the chain, covered by the hash: a reordered entry no longer verifies
    seq: int = Field(unique=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    task_id: str | None = Field(default=None, max_length=64, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    #: "INST" or "INST/SYS" the entry is about (covered by the hash); readers see their scopes'
    scope: str | None = Field(default=None, max_length=130, index=True)
    #: unique: two writers racing for the same predecessor cannot fork the chain
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)
    #: HMAC of `hash` with a key kept outside the database: a rewrite cannot recompute it
    mac: str | None = Field(default=None, max_length=64)
