"""Integrations and incidents (hub/intake): senders, folded alerts, their tasks, receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cmdb.tables.base import _json, utcnow


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
