"""The frames of incidents: alert cards in rooms, and what agents' log watches report.

`ALERT` is a stored room frame (a later one with the same alert_id supersedes the earlier);
`AGENT_EVENT` goes agent to hub and is kept in the agent's outbox until `EVENT_ACK`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.bounds import Count
from protocol.messages import Id, Message, Severity, _Model


class SimilarIncident(_Model):
    """An earlier incident of the same system that looks alike, and what fixed it.

    Structured so each reader words it in their own language: `resolved_by` says how it
    ended (`task`: a task launched from its card, with its `action` and `node`; `alert`:
    its sender resolved it); `resolution` is the same in the earlier incident's language,
    for readers that cannot word it (or a `resolved_by` they do not know)."""

    at: str
    asset_code: str | None = None
    resolution: Annotated[str, Field(max_length=1000)]
    alert_id: Id | None = None
    resolved_by: Literal["task", "alert"] | None = None
    action: Id | None = None
    node: Id | None = None


class ProbableCause(_Model):
    """What most probably caused an incident, written by the hub's LLM from its text and the
    similar incident, in both languages; a reading to check, never an instruction."""

    ko: Annotated[str, Field(min_length=1, max_length=400)]
    en: Annotated[str, Field(min_length=1, max_length=400)]
    source: Literal["llm"] = "llm"


class Alert(Message):
    """An incident card; a later ALERT with the same alert_id supersedes the earlier one."""

    msg_type: Literal["ALERT"] = "ALERT"
    alert_id: Id
    status: Literal["firing", "acknowledged", "resolved"]
    severity: Severity
    title: Annotated[str, Field(max_length=500)]
    summary: Annotated[str, Field(max_length=4000)] = ""
    asset_code: str | None = None
    source: Id
    occurrences: Annotated[int, Field(ge=1, le=2**53 - 1)]
    first_seen: str
    last_seen: str
    similar: SimilarIncident | None = None
    probable_cause: ProbableCause | None = None


class EventAck(Message):
    """The hub has stored this AGENT_EVENT: the agent may forget it."""

    msg_type: Literal["EVENT_ACK"] = "EVENT_ACK"
    event_id: Id


#: at most this many lines in an AGENT_EVENT, each at most MAX_EVENT_LINE characters
MAX_EVENT_LINES = 50
MAX_EVENT_LINE = 2000
EventLine = Annotated[str, Field(max_length=MAX_EVENT_LINE)]


class AgentEvent(Message):
    """Something the agent noticed on a node by itself (a log line matching a watch): the hub
    turns it into an incident. Resent until EVENT_ACK, with the same event_id."""

    msg_type: Literal["AGENT_EVENT"] = "AGENT_EVENT"
    event_id: Id
    node: Id
    service: Id
    source: Literal["log_watch"] = "log_watch"
    severity: Severity = "HIGH"
    title: Annotated[str, Field(min_length=1, max_length=200)]
    #: the matching line, then the lines that followed it (a stack trace)
    lines: Annotated[list[EventLine], Field(min_length=1, max_length=MAX_EVENT_LINES)]
    pattern: Annotated[str, Field(max_length=1000)]
    path: Annotated[str, Field(max_length=4096)]
    occurred_at: str
    #: matches of this watch since its previous event that got no event of their own
    folded: Count = 0
