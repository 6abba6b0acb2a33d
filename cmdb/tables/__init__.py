"""The hub's tables: what exists, who may do what, and what was said and done.

One SQLModel class per table, in modules by what they serve (core, bridges, incidents,
suggestions); importing this package registers every one on SQLModel.metadata. The same
definitions run on SQLite (the embedded default) and PostgreSQL; anything dialect-specific
stays out of here. Schema changes go through Alembic (cmdb/migrations), never `create_all`.
"""

from __future__ import annotations

from cmdb.tables.base import utcnow
from cmdb.tables.bridges import (
    BridgeCard,
    BridgeEvent,
    BridgeLink,
    BridgeOutbox,
    BridgeUserLink,
)
from cmdb.tables.core import (
    Agent,
    Approval,
    Artifact,
    AuditEvent,
    ButtonRecord,
    Institution,
    Message,
    Node,
    Room,
    System,
    Task,
    TaskEvent,
    User,
)
from cmdb.tables.incidents import (
    Incident,
    IncidentTask,
    IntakeReceipt,
    Integration,
)
from cmdb.tables.suggestions import (
    CardFeedback,
    RoomMute,
    SuggestionCooldown,
    SuggestionRecord,
)

__all__ = [
    "Agent",
    "Approval",
    "Artifact",
    "AuditEvent",
    "BridgeCard",
    "BridgeEvent",
    "BridgeLink",
    "BridgeOutbox",
    "BridgeUserLink",
    "ButtonRecord",
    "CardFeedback",
    "Incident",
    "IncidentTask",
    "Institution",
    "IntakeReceipt",
    "Integration",
    "Message",
    "Node",
    "Room",
    "RoomMute",
    "SuggestionCooldown",
    "SuggestionRecord",
    "System",
    "Task",
    "TaskEvent",
    "User",
    "utcnow",
]
