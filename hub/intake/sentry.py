"""Sentry's integration-platform webhooks as signals: `issue`, `event_alert`, `metric_alert`.

`Sentry-Hook-Resource` names the resource. An issue and the alerts about it share the
issue id, so `issue` `resolved` resolves what `event_alert` opened. Sentry ids are per
Sentry organization, so the integration's name is part of the key. Other resources
(installation, comment, error) are valid but are not alerts: they are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from hub.intake.exceptions import BadPayload
from hub.intake.signals import Signal, classify, clip, severity_of

#: event tags that may name the node, most telling first
HOST_TAGS = ("server_name", "host", "hostname")
_RESOLVING = {"resolved", "ignored", "archived"}
_OPENING = {"created", "unresolved", "triggered", "critical", "warning"}


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayload(f"Sentry webhook: {where} must be an object")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _tags(event: Mapping[str, Any]) -> dict[str, str]:
    """Sentry writes tags as [key, value] pairs (or, in some payloads, as an object)."""
    raw = event.get("tags")
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    tags: dict[str, str] = {}
    if isinstance(raw, list):
        for pair in raw:
            if isinstance(pair, list | tuple) and len(pair) == 2:
                tags[str(pair[0])] = str(pair[1])
    return tags


def _issue(integration: str, action: str, data: dict[str, Any]) -> list[Signal]:
    issue = _object(data.get("issue"), "data.issue")
    issue_id = _text(issue.get("id")) or str(issue.get("id", ""))
    if not issue_id:
        raise BadPayload("Sentry issue webhook: data.issue.id is missing")
    if action not in _RESOLVING | _OPENING:
        return []  # assigned and the like change nothing about the trouble
    title = _text(issue.get("title")) or "Sentry issue"
    culprit = _text(issue.get("culprit"))
    return [
        Signal(
            source="sentry",
            key=f"sentry:{integration}:{issue_id}",
            windowed=False,
            status="resolved" if action in _RESOLVING else "firing",
            severity=severity_of(_text(issue.get("level")), "HIGH"),
            title=clip(title, 500),
            summary=clip(culprit, 4000),
            kind=classify((title, culprit), "log_error", frozenset({"lock_wait"})),
        )
    ]


def _event_alert(integration: str, action: str, data: dict[str, Any]) -> list[Signal]:
    event = _object(data.get("event"), "data.event")
    issue_id = _text(event.get("issue_id")) or str(event.get("issue_id") or "")
    if not issue_id:
        raise BadPayload("Sentry event_alert webhook: data.event.issue_id is missing")
    tags = _tags(event)
    title = _text(event.get("title")) or _text(data.get("triggered_rule")) or "Sentry alert"
    lines = [_text(data.get("triggered_rule")), _text(event.get("culprit"))]
    hosts = [_text(event.get("server_name"))] + [tags.get(k, "") for k in HOST_TAGS]
    return [
        Signal(
            source="sentry",
            key=f"sentry:{integration}:{issue_id}",
            windowed=False,
            status="firing",
            severity=severity_of(_text(event.get("level")), "HIGH"),
            title=clip(title, 500),
            summary=clip("\n".join(line for line in lines if line), 4000),
            kind=classify((title,), "log_error", frozenset({"lock_wait"})),
            hosts=tuple(h for h in hosts if h),
            asset_code=tags.get("asset_code"),
            service=tags.get("service"),
        )
    ]


def _metric_alert(integration: str, action: str, data: dict[str, Any]) -> list[Signal]:
    incident = _object(data.get("metric_alert"), "data.metric_alert")
    incident_id = str(incident.get("id") or "")
    if not incident_id:
        raise BadPayload("Sentry metric_alert webhook: data.metric_alert.id is missing")
    if action not in {"critical", "warning", "resolved"}:
        raise BadPayload(f"Sentry metric_alert action {action!r}: critical, warning or resolved")
    title = _text(data.get("description_title")) or _text(incident.get("title")) or "metric"
    text = _text(data.get("description_text")).replace("\\n", "\n")
    return [
        Signal(
            source="sentry",
            key=f"sentry-metric:{integration}:{incident_id}",
            windowed=False,
            status="resolved" if action == "resolved" else "firing",
            severity="CRITICAL" if action == "critical" else "MEDIUM",
            title=clip(title, 500),
            summary=clip(text, 4000),
            kind=classify((title, text), "other"),
        )
    ]


_Reader = Callable[[str, str, dict[str, Any]], list[Signal]]
RESOURCES: dict[str, _Reader] = {
    "issue": _issue,
    "event_alert": _event_alert,
    "metric_alert": _metric_alert,
}


def read_webhook(body: bytes, resource: str | None, integration: str) -> list[Signal]:
    """The signals of one Sentry webhook (none for resources that are not alerts)."""
    if not resource:
        raise BadPayload("the Sentry-Hook-Resource header is missing")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"the body is not JSON: {exc}") from None
    payload = _object(payload, "the body")
    reader = RESOURCES.get(resource)
    if reader is None:
        return []
    action = _text(payload.get("action"))
    if not action:
        raise BadPayload("Sentry webhook: action is missing")
    return reader(integration, action, _object(payload.get("data"), "data"))
