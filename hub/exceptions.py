"""Errors raised by the hub.

HubError                 a request the hub refuses; becomes an ERROR frame with its code
├── Forbidden            identity or scope does not allow it          FORBIDDEN
├── UnknownRoom          no such room                                 UNKNOWN_ROOM
├── NotInRoom            the socket has not joined the room           NOT_IN_ROOM
├── UnknownAction        no such button (or not of this room)         UNKNOWN_ACTION
├── ActionExpired        the button has expired or was already used   ACTION_EXPIRED
├── AgentOffline         the agent that must run it is not connected  AGENT_OFFLINE
├── NotUnderstood        the bot could not make a command of it       NOT_UNDERSTOOD
└── BadFrame             a well-formed frame with a value the hub refuses  BAD_FRAME
IllegalTransition        a task state change the state machine forbids (a bug, not input)
"""

from __future__ import annotations

from protocol import ErrorCode


class HubError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(HubError):
    code = ErrorCode.FORBIDDEN


class UnknownRoom(HubError):
    code = ErrorCode.UNKNOWN_ROOM


class NotInRoom(HubError):
    code = ErrorCode.NOT_IN_ROOM


class UnknownAction(HubError):
    code = ErrorCode.UNKNOWN_ACTION


class ActionExpired(HubError):
    code = ErrorCode.ACTION_EXPIRED


class AgentOffline(HubError):
    code = ErrorCode.AGENT_OFFLINE


class NotUnderstood(HubError):
    code = ErrorCode.NOT_UNDERSTOOD


class BadFrame(HubError):
    code = ErrorCode.BAD_FRAME


class IllegalTransition(Exception):
    """A task state change that the transition table does not allow."""
