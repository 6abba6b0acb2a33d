"""What each side may send on each endpoint, by msg_type: decode() dispatches through these."""

from __future__ import annotations

from protocol.incident_frames import AgentEvent, Alert, EventAck
from protocol.messages import (
    Ack,
    Action,
    AgentHello,
    ApprovalRequest,
    Auth,
    ButtonState,
    Chat,
    CommandPlan,
    Error,
    Feedback,
    Hello,
    Join,
    Joined,
    Leave,
    Message,
    Ping,
    Pong,
    TaskAccepted,
    TaskAssign,
    TaskCancel,
    TaskFinished,
    TaskProgress,
    TaskUpdate,
    Welcome,
)


def _table(*types: type[Message]) -> dict[str, type[Message]]:
    return {t.MSG_TYPE: t for t in types}


CHAT_CLIENT_TYPES = _table(Auth, Join, Leave, Chat, Action, Feedback, Ping, Pong)
CHAT_SERVER_TYPES = _table(
    Hello,
    Joined,
    Chat,
    CommandPlan,
    ApprovalRequest,
    TaskUpdate,
    TaskFinished,
    ButtonState,
    Error,
    Pong,
    Ping,
    Alert,
)
AGENT_CLIENT_TYPES = _table(
    Auth, AgentHello, TaskAccepted, TaskProgress, TaskFinished, AgentEvent, Pong, Ping
)
AGENT_SERVER_TYPES = _table(Welcome, TaskAssign, TaskCancel, Ack, EventAck, Ping, Pong, Error)
ALL_TYPES: dict[str, type[Message]] = {
    **CHAT_CLIENT_TYPES,
    **CHAT_SERVER_TYPES,
    **AGENT_CLIENT_TYPES,
    **AGENT_SERVER_TYPES,
}
