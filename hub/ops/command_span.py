"""Commands in the metrics: a span per command, in a contextvar, so that the pipeline's calls
stay one line each wherever the command gets to (guardia_commands_total by intent and
outcome, guardia_command_parse_seconds, guardia_command_plan_seconds)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from hub.exceptions import HubError, NotUnderstood
from hub.ops import metrics


@dataclass
class CommandSpan:
    started: float = field(default_factory=time.perf_counter)
    intent: str = "UNKNOWN"
    outcome: str = "planned"


_SPAN: ContextVar[CommandSpan | None] = ContextVar("guardia_command_span", default=None)

#: a command that raised: NotUnderstood is not understood, any other HubError a refusal
_RAISED = ((NotUnderstood, "not_understood"), (HubError, "refused"))


@contextlib.contextmanager
def around() -> Iterator[CommandSpan]:
    """Around one command: counts it in guardia_commands_total by intent and outcome."""
    span = CommandSpan()
    token = _SPAN.set(span)
    try:
        yield span
    except BaseException as exc:
        span.outcome = next((o for kind, o in _RAISED if isinstance(exc, kind)), "failed")
        raise
    finally:
        _SPAN.reset(token)
        metrics.COMMANDS.labels(span.intent, span.outcome).inc()


def parsed(intent: str, parser: str, seconds: float) -> None:
    metrics.PARSE_SECONDS.labels(parser).observe(seconds)
    span = _SPAN.get()
    if span is not None:
        span.intent = intent


def outcome(what: str, intent: str | None = None) -> None:
    """What the current command came to: planned, approval, asked_back, not_understood,
    cancel (a refusal or a failure is read from the exception)."""
    span = _SPAN.get()
    if span is not None:
        span.outcome = what
        if intent is not None:
            span.intent = intent


def planned() -> None:
    """The current command's COMMAND_PLAN is in the room."""
    span = _SPAN.get()
    if span is not None:
        metrics.PLAN_SECONDS.observe(time.perf_counter() - span.started)
