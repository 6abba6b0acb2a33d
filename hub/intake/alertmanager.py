"""Alertmanager's webhook (version 4) and Grafana's (version 1, the same shape) as signals.

Both send `{version, groupKey, status, receiver, alerts: [{status, labels, annotations,
startsAt, endsAt, fingerprint, ...}]}`; Grafana adds `orgId`, `title`, `state`, `message`.
Each alert of a group is its own signal: a group may hold several nodes' alerts. The
fingerprint (Alertmanager computes it from the labels) is the dedup key, so the repeats
Alertmanager sends every `repeat_interval` fold into the open incident until it resolves.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.intake.exceptions import BadPayload
from hub.intake.signals import Signal, classify, clip, digest, host_of, parse_time, severity_of
from protocol.codec import describe_validation_error

#: labels that may name the host, most telling first (after `instance`)
HOST_LABELS = ("host", "hostname", "nodename", "server", "server_name")
Labels = dict[str, str]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WebhookAlert(_Lenient):
    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: Annotated[str, Field(max_length=128)] | None = None


class Webhook(_Lenient):
    version: str | None = None
    groupKey: str | int | None = None
    status: Literal["firing", "resolved"]
    receiver: str | None = None
    alerts: Annotated[list[WebhookAlert], Field(max_length=10_000)]
    orgId: int | None = None  # Grafana's
    title: str | None = None


def read_webhook(body: bytes, kind: str) -> list[Signal]:
    """The signals of one notification; BadPayload names what is wrong with it."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"the body is not JSON: {exc}") from None
    try:
        hook = Webhook.model_validate(data)
    except ValidationError as exc:
        raise BadPayload(
            "not an Alertmanager/Grafana webhook (version 4 / 1): " + describe_validation_error(exc)
        ) from None
    source = "grafana" if kind == "grafana" or hook.orgId is not None else "alertmanager"
    return [_signal(alert, source) for alert in hook.alerts]


def _signal(alert: WebhookAlert, source: str) -> Signal:
    labels, notes = alert.labels, alert.annotations
    name = labels.get("alertname") or "alert"
    summary = notes.get("summary") or notes.get("description") or notes.get("message") or ""
    description = notes.get("description", "")
    if description and description != summary:
        summary = f"{summary}\n{description}" if summary else description
    fingerprint = alert.fingerprint or digest(*(f"{k}={v}" for k, v in sorted(labels.items())))
    hosts = [host_of(labels.get("instance"))] + [labels.get(k) for k in HOST_LABELS]
    return Signal(
        source=source,
        key=f"am:{fingerprint}",
        windowed=False,
        status=alert.status,
        severity=severity_of(labels.get("severity") or labels.get("priority")),
        title=clip(name, 500),
        summary=clip(summary, 4000),
        kind=classify((name, summary), "other"),
        hosts=tuple(h for h in hosts if h),
        asset_code=labels.get("asset_code"),
        service=labels.get("service"),
        occurred_at=parse_time(alert.startsAt),
    )
