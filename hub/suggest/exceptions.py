"""Errors raised by the suggestion engine.

SuggestError              something the caller must fix; the message says what
├── BadScope              a scope that is not `INST` or `INST/SYS` (codes)
└── StoreUnavailable      the exemplar store (a `chroma run` server) cannot be reached

A text that is no symptom is not an error: `detect` returns None.
"""

from __future__ import annotations


class SuggestError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadScope(SuggestError, ValueError):
    pass


class StoreUnavailable(SuggestError):
    pass
