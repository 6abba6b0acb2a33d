"""Errors of the intake endpoints; each carries the HTTP status a sender should act on.

IntakeError              the request is refused; nothing of it was stored
├── Unauthenticated      no token, an unknown or revoked one, or a bad signature    401
├── WrongIntegration     a token of another kind of integration for this endpoint   403
├── BadPayload           the body will never be valid: the sender must not retry    400
├── UnsupportedMedia     not JSON                                                   415
└── PayloadTooLarge      over GUARDIA_INTAKE_MAX_BYTES                              413
"""

from __future__ import annotations


class IntakeError(Exception):
    status = 400
    code = "BAD_FRAME"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(IntakeError):
    status = 401
    code = "UNAUTHENTICATED"


class WrongIntegration(IntakeError):
    status = 403
    code = "FORBIDDEN"


class BadPayload(IntakeError):
    status = 400
    code = "BAD_FRAME"


class UnsupportedMedia(IntakeError):
    status = 415
    code = "BAD_FRAME"


class PayloadTooLarge(IntakeError):
    status = 413
    code = "TOO_LARGE"
