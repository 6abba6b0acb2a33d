"""Every message type of protocol.md as a validated, tagged model.

A frame is one JSON object; `msg_type` is its tag. Models validate in strict mode: a string
where an int belongs is a bad frame, not something to coerce. Unknown fields are ignored so
that a newer peer may add optional fields (protocol.md: adding is fine, renaming is not).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from protocol.bounds import MAX_WIRE_INT, Count, ResultData, WireInt
from protocol.codes import ErrorCode

SenderType = Literal["HUMAN", "BOT", "AGENT", "SYSTEM"]
Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
ButtonStyle = Literal["primary", "danger", "default"]
FinishReason = Literal[
    "REJECTED", "EXPIRED", "AGENT_NOT_CONNECTED", "DEADLINE", "CANCELLED", "INTERNAL"
]
TaskStatus = Literal[
    "QUEUED",
    "PENDING_APPROVAL",
    "APPROVED",
    "REJECTED",
    "EXPIRED",
    "DISPATCHED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "TIMED_OUT",
    "CANCELLED",
]

Id = Annotated[str, Field(min_length=1, max_length=128)]
RoomId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Token = Annotated[str, Field(min_length=1, max_length=512)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def new_message_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> str:
    """The current time as protocol.md writes it: ISO-8601 UTC with a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Button(_Model):
    type: Literal["BUTTON"] = "BUTTON"
    label: Annotated[str, Field(min_length=1, max_length=200)]
    action_id: Id
    command_code: Annotated[str, Field(min_length=1, max_length=64)]
    style: ButtonStyle = "default"


class ItsmMetadata(_Model):
    itsm_ticket_id: (
        Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:#-]*$")] | None
    ) = None
    asset_code: (
        Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] | None
    ) = None
    severity: Severity = "LOW"


class TaskResult(_Model):
    """What one action did on one node: `summary` in English for logs and old clients, and
    `data`, the same facts as fields (per action: protocol.md), for clients to render in the
    reader's language."""

    node: Id
    action: Id
    ok: bool
    exit_code: WireInt | None = None
    summary: str = ""
    output_tail: str = ""
    duration_ms: Count = 0
    data: ResultData = None


class ArtifactInfo(_Model):
    """The exact file a deploy installs, shown to whoever approves it."""

    artifact_id: Id
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=0)]
    uploaded_by: Id


class TaskStep(_Model):
    action: Id
    node: Id
    params: dict[str, Any] = Field(default_factory=dict)


class Message(_Model):
    """The envelope every frame carries, in both directions."""

    MSG_TYPE: ClassVar[str] = ""

    v: Literal[1] = 1
    msg_type: str
    message_id: Id = Field(default_factory=new_message_id)
    timestamp: str | None = None
    room_id: RoomId | None = None
    seq: Annotated[int, Field(ge=1, le=MAX_WIRE_INT)] | None = None
    sender: str | None = None
    sender_type: SenderType | None = None
    content: str = ""
    is_widget: bool = False
    interactive_actions: list[Button] = Field(default_factory=list)
    itsm_metadata: ItsmMetadata | None = None

    @model_validator(mode="before")
    @classmethod
    def _seed_compat(cls, data: Any) -> Any:
        """Accept the seed design's single `interactive_action` object as a one-element list."""
        if isinstance(data, dict) and "interactive_action" in data:
            data = dict(data)
            single = data.pop("interactive_action")
            if single is not None and "interactive_actions" not in data:
                data["interactive_actions"] = [single]
        return data

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        default = cls.model_fields.get("msg_type")
        if default is not None and isinstance(default.default, str):
            cls.MSG_TYPE = default.default


# /ws/chat, client to hub


class Auth(Message):
    msg_type: Literal["AUTH"] = "AUTH"
    token: Token


class Join(Message):
    msg_type: Literal["JOIN"] = "JOIN"
    room_id: RoomId
    after_seq: Count | None = None


class Leave(Message):
    msg_type: Literal["LEAVE"] = "LEAVE"
    room_id: RoomId


class Chat(Message):
    """A chat line: from a client (no seq yet) or stored by the hub (with seq)."""

    msg_type: Literal["CHAT"] = "CHAT"
    room_id: RoomId
    content: Annotated[str, Field(max_length=16_000)]
    #: set by the hub only: the bridge a line came through, as `BRIDGE:CHANNEL`
    #: (`slack:C0123`, `mattermost:4xp9...`, `messenger:NAME`); None from a socket
    via: Annotated[str, Field(max_length=200)] | None = None


class Action(Message):
    msg_type: Literal["ACTION"] = "ACTION"
    room_id: RoomId
    action_id: Id


class Feedback(Message):
    """Thumbs up or down on a bot card (COMMAND_PLAN, TASK_FINISHED); nothing is answered."""

    msg_type: Literal["FEEDBACK"] = "FEEDBACK"
    room_id: RoomId
    #: the card's stored message_id
    target_message_id: Id
    helpful: bool


class Ping(Message):
    msg_type: Literal["PING"] = "PING"


class Pong(Message):
    msg_type: Literal["PONG"] = "PONG"


# /ws/chat, hub to client


class Hello(Message):
    msg_type: Literal["HELLO"] = "HELLO"
    session_id: Id
    user: Id
    roles: list[str]
    server_version: str


class Joined(Message):
    msg_type: Literal["JOINED"] = "JOINED"
    room_id: RoomId
    last_seq: Count
    #: the joiner's own thumbs on this room's cards, {message_id: helpful}, newest first
    feedback: dict[str, bool] = Field(default_factory=dict)


class CommandPlan(Message):
    msg_type: Literal["COMMAND_PLAN"] = "COMMAND_PLAN"
    task_id: Id
    plan: dict[str, Any]
    requires_approval: bool
    artifacts: list[ArtifactInfo] = Field(default_factory=list)
    requested_by: Id | None = None
    #: the system's name from the CMDB, as people know it (e.g. 예산시스템)
    system_label: Annotated[str, Field(max_length=200)] | None = None


class ApprovalRequest(Message):
    msg_type: Literal["APPROVAL_REQUEST"] = "APPROVAL_REQUEST"
    task_id: Id
    requested_by: Id
    plan: dict[str, Any]
    expires_at: str
    artifacts: list[ArtifactInfo] = Field(default_factory=list)


class TaskUpdate(Message):
    msg_type: Literal["TASK_UPDATE"] = "TASK_UPDATE"
    task_id: Id
    status: TaskStatus
    step: str | None = None
    node: str | None = None
    progress: Fraction | None = None
    message: str | None = None
    #: who moved the task (who approved it), for readers to word in their own language
    actor: Id | None = None


class TaskFinished(Message):
    """Sent by the agent to the hub, and by the hub to the room."""

    msg_type: Literal["TASK_FINISHED"] = "TASK_FINISHED"
    task_id: Id
    status: TaskStatus
    results: list[TaskResult] = Field(default_factory=list)
    #: why the hub ended it without a result (none when the agent reported), and by whom
    reason: FinishReason | None = None
    actor: Id | None = None


class ButtonState(Message):
    """Stored room frame: these buttons can no longer be pressed (also for late joiners)."""

    msg_type: Literal["BUTTON_STATE"] = "BUTTON_STATE"
    room_id: RoomId
    action_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    #: USED: pressed (by `by`); CLOSED: its question was settled by another button (by `by`)
    state: Literal["USED", "CLOSED", "EXPIRED"]
    by: Id | None = None


class Error(Message):
    msg_type: Literal["ERROR"] = "ERROR"
    code: Annotated[ErrorCode, Field(strict=False)]  # arrives as its string value
    message: str
    ref: str | None = None


# /ws/agent, agent to hub


class AgentHello(Message):
    msg_type: Literal["AGENT_HELLO"] = "AGENT_HELLO"
    agent_id: Id
    version: str
    actions: list[str] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list)
    pending_results: list[str] = Field(default_factory=list)


class TaskAccepted(Message):
    msg_type: Literal["TASK_ACCEPTED"] = "TASK_ACCEPTED"
    task_id: Id


class TaskProgress(Message):
    msg_type: Literal["TASK_PROGRESS"] = "TASK_PROGRESS"
    task_id: Id
    step: str
    node: str
    progress: Fraction
    message: str = ""


# /ws/agent, hub to agent


class Welcome(Message):
    msg_type: Literal["WELCOME"] = "WELCOME"
    agent_id: Id
    server_version: str


class TaskAssign(Message):
    msg_type: Literal["TASK_ASSIGN"] = "TASK_ASSIGN"
    task_id: Id
    #: the agent the hub meant this task for, signed with the rest: an agent refuses a task
    #: for another agent id (or for none), so a signed task cannot be replayed elsewhere
    agent_id: Id | None = None
    room_id: RoomId | None = None
    requested_by: Id
    approved_by: list[str] = Field(default_factory=list)
    deadline: str
    steps: list[TaskStep]
    signature: str | None = None


class TaskCancel(Message):
    msg_type: Literal["TASK_CANCEL"] = "TASK_CANCEL"
    task_id: Id


class Ack(Message):
    msg_type: Literal["ACK"] = "ACK"
    task_id: Id
