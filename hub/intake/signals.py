"""A `Signal`: one alert, error or log event as every sender's payload reads into it.

Pure: the payload readers (alertmanager, sentry, application, agent_events) build signals;
routing and the store take them from there. The helpers here are the rules they share:
severity words, what kind of trouble a text describes (it decides the card's buttons), the
normalized stack trace two errors are compared by, and the host an `instance` label names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

SignalStatus = Literal["firing", "resolved"]
IncidentKind = Literal["lock_wait", "service_down", "log_error", "other"]
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")

#: what each kind of trouble offers on its card, diagnostics first (ACK_ALERT is added to all)
KIND_ACTIONS: dict[IncidentKind, tuple[str, ...]] = {
    "lock_wait": ("FETCH_DB_LOCKS",),
    "service_down": ("SERVICE_STATUS", "RESTART_SERVICE"),
    "log_error": ("TAIL_LOG",),
    "other": ("SERVICE_STATUS",),
}


@dataclass(frozen=True)
class Signal:
    """One alert as the hub understands it, whoever sent it."""

    source: str  # alertmanager | grafana | sentry | event | agent
    #: the dedup key: a sender's fingerprint, or a normalized error's hash
    key: str
    #: True: folds only while repeats come within the dedup window, and per node
    windowed: bool
    status: SignalStatus
    severity: str
    title: str
    summary: str
    kind: IncidentKind
    #: host names or IPs the payload names, most telling first
    hosts: tuple[str, ...] = ()
    asset_code: str | None = None
    service: str | None = None
    occurred_at: datetime | None = None


_SEVERITY_WORDS = {
    "critical": "CRITICAL",
    "fatal": "CRITICAL",
    "page": "CRITICAL",
    "p1": "CRITICAL",
    "high": "HIGH",
    "error": "HIGH",
    "major": "HIGH",
    "p2": "HIGH",
    "warning": "MEDIUM",
    "warn": "MEDIUM",
    "medium": "MEDIUM",
    "minor": "MEDIUM",
    "p3": "MEDIUM",
    "info": "LOW",
    "low": "LOW",
    "none": "LOW",
    "debug": "LOW",
}


def severity_of(word: str | None, default: str = "MEDIUM") -> str:
    """A sender's severity word as one of LOW, MEDIUM, HIGH, CRITICAL."""
    if not word:
        return default
    return _SEVERITY_WORDS.get(word.strip().lower(), default)


_LOCK = re.compile(
    r"lock|deadlock|blocking|blocked quer|wait event|대기 ?쿼리|락|잠금", re.IGNORECASE
)
_DOWN = re.compile(
    r"\bdown\b|(?-i:[a-z]Down\b)|unreachable|not responding|no response|probe ?fail"
    r"|connection refused|unavailable|not running|inactive|health ?check fail"
    r"|다운|중단|응답 ?없|기동 ?실패|접속 ?불가",
    re.IGNORECASE,
)


def classify(
    texts: Iterable[str],
    default: IncidentKind,
    allowed: frozenset[IncidentKind] = frozenset({"lock_wait", "service_down"}),
) -> IncidentKind:
    """The kind of trouble a text describes: a lock wait before a service that is down."""
    text = "\n".join(t for t in texts if t)
    if "lock_wait" in allowed and _LOCK.search(text):
        return "lock_wait"
    if "service_down" in allowed and _DOWN.search(text):
        return "service_down"
    return default


_HEX = re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_LONG_HEX = re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
TRACE_LINES = 30


def normalize_trace(text: str) -> str:
    """A stack trace with what differs between two runs of the same error taken out.

    Line numbers, addresses, ids, ports and times vary; the exception and its frames do not.
    Only the first TRACE_LINES lines count: the top of a trace is where errors differ.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        line = _UUID.sub("#", line)
        line = _HEX.sub("#", line)
        line = _LONG_HEX.sub("#", line)
        line = _NUMBER.sub("#", line)
        lines.append(_SPACE.sub(" ", line))
        if len(lines) >= TRACE_LINES:
            break
    return "\n".join(lines)


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def host_of(instance: str | None) -> str | None:
    """The host an `instance` label names: `10.0.0.1:9100`, `https://h.example/`, `[::1]:80`."""
    if not instance:
        return None
    text = instance.strip()
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host or None


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time or a Unix timestamp; None for anything else (Go's zero time too)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    text = value.strip().replace("Z", "+00:00")
    # Go writes nanoseconds; Python reads at most microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
