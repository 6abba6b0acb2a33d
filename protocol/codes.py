"""Error codes and WebSocket close codes of protocol version 1."""

from __future__ import annotations

from enum import IntEnum, StrEnum

PROTOCOL_VERSION = 1
DEFAULT_MAX_FRAME_BYTES = 1024 * 1024


class ErrorCode(StrEnum):
    BAD_JSON = "BAD_JSON"
    BAD_FRAME = "BAD_FRAME"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    UNKNOWN_ROOM = "UNKNOWN_ROOM"
    NOT_IN_ROOM = "NOT_IN_ROOM"
    UNKNOWN_ACTION = "UNKNOWN_ACTION"
    ACTION_EXPIRED = "ACTION_EXPIRED"
    RATE_LIMITED = "RATE_LIMITED"
    TOO_LARGE = "TOO_LARGE"
    AGENT_OFFLINE = "AGENT_OFFLINE"
    NOT_UNDERSTOOD = "NOT_UNDERSTOOD"
    INTERNAL = "INTERNAL"


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    UNSUPPORTED_DATA = 1003  # binary frames
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013
    NOT_AUTHENTICATED = 4401  # bad, expired or revoked token; no AUTH in time
    WRONG_TOKEN_KIND = 4403  # a user token on /ws/agent or the reverse
    REPLACED = 4409  # a newer connection with the same agent id
    RATE_LIMITED = 4429
