"""Logging for the daemon: JSON lines (or text) on stdout, secrets scrubbed, task ids added.

The token must never reach a log, even at DEBUG where websockets prints request headers: it is
replaced in every record's message and again in every formatted line (a traceback included).
Every line carries the agent's id, and `task_id` while a task is being handled
(agent/log_context.py), so one grep follows a command from the hub's logs into the agent's.

    GUARDIA_LOG_FORMAT=json (default)  {"time", "level", "logger", "message", "agent_id",
                                        "task_id" (when about a task), "exc_info" (if any)}
    GUARDIA_LOG_FORMAT=text            time level logger: message [task_id=...]
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

from agent.log_context import current_task_id

REDACTED = "[redacted]"
FORMATS = ("json", "text")


class SecretFilter(logging.Filter):
    """Replaces each secret in a record's message, whoever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            message = redact(message, self._secrets)
            record.msg, record.args = message, None
        return True


class ContextFilter(logging.Filter):
    """Adds `agent_id` to every record, and `task_id` inside a task's context."""

    def __init__(self, agent_id: str | None) -> None:
        super().__init__()
        self.agent_id = agent_id

    def filter(self, record: logging.LogRecord) -> bool:
        if self.agent_id is not None and not hasattr(record, "agent_id"):
            record.agent_id = self.agent_id
        task_id = current_task_id()
        if task_id is not None and not hasattr(record, "task_id"):
            record.task_id = task_id
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        task_id = getattr(record, "task_id", None)
        return line if task_id is None else f"{line} [task_id={task_id}]"


class RedactingFormatter(logging.Formatter):
    """Another formatter's lines with the secrets replaced: the last line of defence."""

    def __init__(self, inner: logging.Formatter, secrets: list[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self._secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def make_formatter(fmt: str) -> logging.Formatter:
    if fmt == "text":
        return TextFormatter()
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


def configure_logging(
    level: str, secrets: Iterable[str], *, fmt: str = "json", agent_id: str | None = None
) -> None:
    kept = [s for s in secrets if len(s) >= 4]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter(make_formatter(fmt), kept))
    handler.addFilter(SecretFilter(kept))
    handler.addFilter(ContextFilter(agent_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # chatty at INFO, and websockets prints headers (the token) at DEBUG
    for name in ("websockets", "asyncssh"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
