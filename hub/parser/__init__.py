"""Command understanding: a chat sentence to a plan (operations.md), grounded in the CMDB.

parse_command(text, index) -> Plan         the built-in parser: pure, fast, offline
LlmParser(index, ...).parse(text) -> Plan  an OpenAI-compatible LLM, grounded, with the
                                           built-in parser as its fallback
"""

from __future__ import annotations

from hub.parser.builtin import MAX_COMMAND_CHARS, BuiltinParser, builtin_parser, parse_command
from hub.parser.exceptions import CommandTooLong, ParseError
from hub.parser.plan import ACTION_SEQUENCES, UNKNOWN, Plan, PlanDraft, approval_required

__all__ = [
    "ACTION_SEQUENCES",
    "MAX_COMMAND_CHARS",
    "UNKNOWN",
    "BuiltinParser",
    "CommandTooLong",
    "ParseError",
    "Plan",
    "PlanDraft",
    "approval_required",
    "builtin_parser",
    "parse_command",
]
