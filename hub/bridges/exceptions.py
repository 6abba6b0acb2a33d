"""Errors of the bridges.

BridgeError              something a bridge cannot do
├── NotLinked            no room for this channel, or no user for this account (input)
├── BadSignature         a request whose signature, token or context does not verify (peer)
└── Delivery             sending to the other side failed
    ├── RetryLater       it may work later: down, rate-limited (`after` seconds, or backoff)
    └── Undeliverable    it never will: the other side refused this message itself
"""

from __future__ import annotations


class BridgeError(Exception):
    """Something a bridge cannot do; `str()` says what, for a person to act on."""


class NotLinked(BridgeError):
    pass


class BadSignature(BridgeError):
    pass


class Delivery(BridgeError):
    pass


class RetryLater(Delivery):
    def __init__(self, message: str, after: float | None = None) -> None:
        super().__init__(message)
        #: seconds the other side asked for (429 Retry-After); None: the lane's backoff
        self.after = after


class Undeliverable(Delivery):
    pass
