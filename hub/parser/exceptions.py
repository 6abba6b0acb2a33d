"""Errors raised by the command parser.

    ParseError              the text cannot be parsed at all (a plan always comes otherwise)
    └── CommandTooLong      longer than any command a person types; refused unread

An LLM that fails is not an error: the built-in parser answers instead.
"""

from __future__ import annotations


class ParseError(ValueError):
    """A text that cannot be turned into a plan, with a message a person can act on."""

    #: protocol.md's error code for it
    code = "NOT_UNDERSTOOD"


class CommandTooLong(ParseError):
    code = "TOO_LARGE"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"a command is at most {limit} characters; this one has {length}")
        self.length = length
        self.limit = limit
