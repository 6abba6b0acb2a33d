"""Errors raised by the protocol package.

    ProtocolError                 a frame broke the wire contract (the peer misbehaved)
    ├── FrameTooLarge             over the frame size limit          code TOO_LARGE
    ├── BadJson                   not UTF-8 JSON, or not an object   code BAD_JSON
    └── BadFrame                  valid JSON, invalid message        code BAD_FRAME
    SignatureError                a task signature does not verify (or cannot be made)

Every error carries a protocol error `code` and a message a person can act on.
"""

from __future__ import annotations

from protocol.codes import ErrorCode


class ProtocolError(Exception):
    """A frame that breaks the contract in protocol.md."""

    code: ErrorCode = ErrorCode.BAD_FRAME

    def __init__(self, message: str, *, ref: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: the offending frame's message_id, when it could be read
        self.ref = ref


class FrameTooLarge(ProtocolError):
    code = ErrorCode.TOO_LARGE


class BadJson(ProtocolError):
    code = ErrorCode.BAD_JSON


class BadFrame(ProtocolError):
    code = ErrorCode.BAD_FRAME


class SignatureError(Exception):
    """A task signature is missing, malformed, or does not verify."""
