"""The hub's tables: what exists, who may do what, and what was said and done.

One SQLModel class per table. The same definitions run on SQLite (the embedded default) and
PostgreSQL; anything dialect-specific stays out of here. Schema changes go through Alembic
(cmdb/migrations), never through `create_all`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(**kw: Any) -> Any:
    return Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False, **kw))


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


# -- bridges to other messengers (hub/bridges) ------------------------------------------------


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


class Integration(SQLModel, table=True):
    """A sender that is not a person: a monitoring system, an application, a messenger.

    It authenticates with a bearer token (stored hashed); `secret` is the HMAC key some
    senders sign with, kept as given because verifying needs it, and never shown again.
    """

    __tablename__ = "integrations"

    name: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16)
    room_id: str | None = Field(default=None, foreign_key="rooms.id", max_length=64)
    token_hash: str = Field(unique=True, max_length=64)
    secret: str | None = Field(default=None, max_length=512)
    callback_url: str | None = Field(default=None, max_length=1024)
    format: str = Field(default="json", max_length=16)
    revoked: bool = False
    #: what it sent: alerts that became or joined incidents, and those no node matched
    alerts_received: int = 0
    alerts_ignored: int = 0
    last_used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Incident(SQLModel, table=True):
    """Alerts folded into one thing to act on, with its card in a room.

    `open_key` is the dedup key while the incident still folds repeats (NULL once resolved,
    or once a windowed key has gone quiet): its unique index makes folding race-free.
    """

    __tablename__ = "incidents"

    id: str = Field(primary_key=True, max_length=32)
    state: str = Field(max_length=16, index=True)
    severity: str = Field(max_length=16)
    #: what the card offers: lock_wait, service_down, log_error or other
    kind: str = Field(max_length=16)
    node: str | None = Field(default=None, max_length=64, index=True)
    system: str | None = Field(default=None, max_length=64, index=True)
    institution: str | None = Field(default=None, max_length=64)
    source: str = Field(max_length=32)
    integration: str | None = Field(default=None, max_length=128)
    fingerprint: str = Field(max_length=255)
    open_key: str | None = Field(default=None, unique=True, max_length=255)
    first_seen: datetime
    last_seen: datetime
    occurrences: int = 1
    task_ids: list[str] = _json()
    timeline: list[dict[str, Any]] = _json()
    title: str = Field(max_length=500)
    summary: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    room_id: str | None = Field(default=None, foreign_key="rooms.id", max_length=64)
    lang: str = Field(default="en", max_length=8)
    #: the card's buttons (protocol Button objects), made once for the incident
    actions: list[dict[str, Any]] = _json()
    similar: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    #: the LLM's probable cause, {"ko": ..., "en": ...}, checked (hub/intake/cause.py)
    cause: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    #: bumped on every change; the card is behind while posted_version < version
    version: int = 1
    posted_version: int = 0
    posted_at: datetime | None = None
    resolved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class IncidentTask(SQLModel, table=True):
    """A task launched from an incident's card: its ending may resolve the incident."""

    __tablename__ = "incident_tasks"

    task_id: str = Field(primary_key=True, foreign_key="tasks.id", max_length=64)
    incident_id: str = Field(foreign_key="incidents.id", index=True, max_length=32)
    action: str = Field(max_length=64)


class IntakeReceipt(SQLModel, table=True):
    """A sender's event id already counted: a redelivered event is acknowledged, not recounted."""

    __tablename__ = "intake_receipts"

    key: str = Field(primary_key=True, max_length=300)
    incident_id: str | None = Field(default=None, max_length=32)
    at: datetime = Field(default_factory=utcnow, index=True)
