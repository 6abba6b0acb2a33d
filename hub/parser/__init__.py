"""Command understanding: a chat sentence to a plan (operations.md), grounded in the CMDB.

parse_command(text, index, *, scope=None) -> Plan         the built-in parser: pure, fast,
                                                          offline
LlmParser(index, ...).parse(text, *, scope=None) -> Plan  an OpenAI-compatible LLM, grounded,
                                                          with the built-in parser as its
                                                          fallback

`scope` is the room's `Scope`, (institution code, system code), either None: a text that
names no system is grounded in it. A plan that asks which system lists the codes it offers
in `Plan.system_candidates`.

May import: cmdb (the index it grounds in), protocol; nothing else of the hub, so that the
parser runs alone (`guardia parse`) and in tests without a hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.parser.builtin import MAX_COMMAND_CHARS, BuiltinParser, builtin_parser, parse_command
from hub.parser.exceptions import CommandTooLong, ParseError
from hub.parser.grounding import Scope
from hub.parser.plan import ACTION_SEQUENCES, UNKNOWN, Plan, PlanDraft, approval_required

if TYPE_CHECKING:
    from hub.parser.llm import LlmParser, LlmSettings


def __getattr__(name: str) -> Any:
    # the LLM path loads the openai client, which a process with no LLM should not pay for
    if name in ("LlmParser", "LlmSettings"):
        from hub.parser import llm

        return getattr(llm, name)
    raise AttributeError(f"module 'hub.parser' has no attribute {name!r}")


__all__ = [
    "ACTION_SEQUENCES",
    "MAX_COMMAND_CHARS",
    "UNKNOWN",
    "BuiltinParser",
    "CommandTooLong",
    "LlmParser",
    "LlmSettings",
    "ParseError",
    "Plan",
    "PlanDraft",
    "Scope",
    "approval_required",
    "builtin_parser",
    "parse_command",
]
