"""Errors raised by the agent.

    AgentError                  base of everything below
    ├── UsageError              the command line or environment is wrong             (exit 2)
    ├── ConfigError             agent.yaml is wrong: file, line and reason           (exit 2)
    ├── OutboxError             the local outbox file cannot be used
    ├── EnrollmentError         no pinned hub key, or enrolling failed: why and what to do (exit 2)
    └── StepError               one step could not do its work on one node (the step fails)
        ├── ParamError          a parameter breaks its pattern, or names what is not configured
        ├── HostKeyError        the node's SSH host key is unknown or changed
        ├── TransportError      the node cannot be reached, or a file operation failed
        └── ArtifactError       the artifact fetch failed, or its size or sha256 do not match

Every error carries a protocol error `code` (protocol.md) and a message a person can act on;
none of them ever holds a token or a key. A final close from the hub (4401, 4403) is no
exception: it is a `Stop` verdict of the reconnect policy (agent/backoff.py); a 4409 is
retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol import ErrorCode


class AgentError(Exception):
    """Something the agent cannot do; the message says what to change."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(AgentError):
    """A missing or malformed flag or environment variable."""

    code = ErrorCode.BAD_FRAME


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in the config file, at a 1-based line."""

    line: int
    reason: str


class ConfigError(AgentError):
    """The config file is refused; `problems` lists each line and reason."""

    code = ErrorCode.BAD_FRAME

    def __init__(self, path: str, problems: list[ConfigProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}:{p.line}: {p.reason}" for p in problems))


class OutboxError(AgentError):
    """The outbox file is unreadable, of an unknown schema, or not writable."""


class EnrollmentError(AgentError):
    """The hub's key is not pinned, cannot be fetched, does not match what was expected, or
    differs from the key already pinned."""

    code = ErrorCode.FORBIDDEN


class StepError(AgentError):
    """A step failed on its node; the message becomes the result's summary, and `data` (what
    the action knew when it failed) the result's data."""

    def __init__(
        self,
        message: str,
        *,
        exit_code: int | None = None,
        output: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.output = output
        self.data = data


class ParamError(StepError):
    code = ErrorCode.FORBIDDEN


class HostKeyError(StepError):
    code = ErrorCode.FORBIDDEN


class TransportError(StepError):
    code = ErrorCode.AGENT_OFFLINE


class ArtifactError(StepError):
    code = ErrorCode.NOT_UNDERSTOOD
