"""What an application posts from its exception handler, as a signal.

Two shapes: the seed design's (`serverName`, `serverIp`, `errorType`, `message`,
`requestMethod`, `requestUrl`, `stackTrace`) and RFC 9457 problem details (`type`, `title`,
`status`, `detail`, `instance`, and extension members; `application/problem+json`).
The dedup key is the error and its normalized stack trace; repeats fold per node and only
while they keep coming within the dedup window (the store adds both).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.intake.exceptions import BadPayload, UnsupportedMedia
from hub.intake.signals import (
    Signal,
    classify,
    clip,
    digest,
    host_of,
    normalize_trace,
    parse_time,
    severity_of,
)
from protocol.codec import describe_validation_error

Text = Annotated[str, Field(max_length=200_000)]
SUMMARY_TRACE_LINES = 15


class SeedError(BaseModel):
    """The seed design's error report."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    serverName: str | None = None
    serverIp: str | None = None
    errorType: Text | None = None
    message: Text | None = None
    requestMethod: str | None = None
    requestUrl: str | None = None
    stackTrace: Text | None = None
    severity: str | None = Field(default=None, alias="level")
    assetCode: str | None = Field(default=None, alias="asset_code")
    service: str | None = None
    timestamp: str | int | float | None = None


def _trace_head(trace: str) -> str:
    return "\n".join(trace.strip().splitlines()[:SUMMARY_TRACE_LINES])


def read_seed(data: dict[str, Any]) -> Signal:
    try:
        error = SeedError.model_validate(data)
    except ValidationError as exc:
        raise BadPayload("bad error report: " + describe_validation_error(exc)) from None
    if not (error.errorType or error.message):
        raise BadPayload("an error report needs errorType or message")
    kind = error.errorType or "Error"
    message = error.message or ""
    trace = error.stackTrace or ""
    request = " ".join(p for p in (error.requestMethod, error.requestUrl) if p)
    summary = "\n".join(p for p in (request, _trace_head(trace) or message) if p)
    return Signal(
        source="event",
        key="event:" + digest(kind, normalize_trace(trace or message)),
        windowed=True,
        status="firing",
        severity=severity_of(error.severity, "HIGH"),
        title=clip(f"{kind}: {message}" if message else kind, 500),
        summary=clip(summary, 4000),
        kind=classify((kind, message), "log_error", frozenset({"lock_wait"})),
        hosts=tuple(h for h in (error.serverIp, error.serverName) if h),
        asset_code=error.assetCode,
        service=error.service,
        occurred_at=parse_time(error.timestamp),
    )


#: extension members a problem may name its server with
PROBLEM_HOSTS = ("serverIp", "serverName", "host", "hostname")
PROBLEM_TRACES = ("stackTrace", "stacktrace", "trace", "exception")


def read_problem(data: dict[str, Any]) -> Signal:
    """RFC 9457: every member is optional, but one of type, title, detail must say something."""

    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    kind, title, detail, instance = text("type"), text("title"), text("detail"), text("instance")
    if not (kind or title or detail):
        raise BadPayload("a problem (RFC 9457) needs a type, title or detail")
    status = data.get("status")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise BadPayload("problem status must be an HTTP status code (100-599)")
    trace = next((text(n) for n in PROBLEM_TRACES if text(n)), "")
    hosts = [text(n) for n in PROBLEM_HOSTS]
    if "://" in instance:  # an absolute URI names the server that had the problem
        hosts.append(host_of(instance) or "")
    summary = "\n".join(p for p in (detail, instance, _trace_head(trace)) if p)
    headline = title or kind or detail
    return Signal(
        source="event",
        key="event:" + digest(kind, title, normalize_trace(trace or detail)),
        windowed=True,
        status="firing",
        severity="HIGH" if status is None or status >= 500 else "MEDIUM",
        title=clip(headline, 500),
        summary=clip(summary, 4000),
        kind=classify((kind, title, detail), "log_error", frozenset({"lock_wait"})),
        hosts=tuple(h for h in hosts if h),
        asset_code=text("asset_code") or text("assetCode") or None,
        service=text("service") or None,
        occurred_at=parse_time(data.get("timestamp")),
    )


_SEED_FIELDS = ("errorType", "message", "stackTrace", "serverName", "serverIp")


def read_event(body: bytes, content_type: str) -> list[Signal]:
    """An application's error report, by its media type and then its fields."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in ("application/json", "application/problem+json", ""):
        raise UnsupportedMedia(
            f"{media}: send application/json or application/problem+json (RFC 9457)"
        )
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadPayload("the body must be a JSON object")
    if media == "application/problem+json" or not any(f in data for f in _SEED_FIELDS):
        return [read_problem(data)]
    return [read_seed(data)]
