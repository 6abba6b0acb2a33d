"""The hub's log lines: JSON on stdout by default (GUARDIA_LOG_FORMAT=json|text), uvicorn's
access and error lines included, each about a task carrying its task, room, agent and user,
and nothing secret in any of them (hub.ops.redaction, applied to every formatted line).

    json  {"time", "level", "logger", "message", "task_id", "room_id", "agent_id", "user",
           "exc_info" (a traceback, if any), ...}: the agent's lines have the same keys
           (agent/log_filter.py), so one grep for a task id follows a command across both
    text  time level logger: message [task_id=... room_id=...]
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from hub.ops import log_context
from hub.ops.redaction import redact

FORMATS = ("json", "text")


class ContextFilter(logging.Filter):
    """Adds the bound task, room, agent and user to each record (those it lacks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)  # uvicorn's copy with terminal colours
        for key, value in log_context.current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's lines with every secret taken out, traceback included."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
            **kwargs,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # redacted value by value, before encoding: the line stays valid JSON
        return {key: _redacted(value) for key, value in log_data.items()}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


class RedactingTextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{key}={getattr(record, key)}"
            for key in log_context.FIELDS
            if getattr(record, key, None) is not None
        ]
        return redact(f"{line} [{' '.join(fields)}]" if fields else line)


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """A dictConfig for the root logger and uvicorn's loggers alike (uvicorn's log_config)."""
    if fmt not in FORMATS:
        raise ValueError(f"GUARDIA_LOG_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}")
    formatter = RedactingJsonFormatter if fmt == "json" else RedactingTextFormatter
    level = level.upper()
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"line": {"()": formatter}},
        "handlers": {"stdout": {**handler, "formatter": "line", "filters": ["context"]}},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # uvicorn's own handlers are replaced by ours: one format on stdout
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            # websockets prints request headers (tokens) at DEBUG
            "websockets": {"level": "WARNING" if level == "DEBUG" else level},
        },
    }


def configure(fmt: str, level: str) -> dict[str, Any]:
    """Apply the configuration to this process; returns it for uvicorn to apply again."""
    config = log_config(fmt, level)
    logging.config.dictConfig(config)
    return config
