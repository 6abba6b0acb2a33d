"""An agent's AGENT_EVENT (a watched log line matched) as a signal.

The node is the one the event names; the hub has already checked that the agent serves it.
Repeats of the same pattern and the same (normalized) line fold per node within the dedup
window, like an application's errors.
"""

from __future__ import annotations

from hub.intake.signals import Signal, classify, clip, digest, normalize_trace, parse_time
from protocol import AgentEvent

SUMMARY_LINES = 20


def read_agent_event(event: AgentEvent) -> Signal:
    lines = event.lines[-SUMMARY_LINES:]
    where = f"{event.path}" if event.path else ""
    summary = "\n".join([*lines, where] if where else lines)
    return Signal(
        source="agent",
        key="log:" + digest(event.service or "", event.pattern, normalize_trace(event.title)),
        windowed=True,
        status="firing",
        severity=event.severity,
        title=clip(event.title, 500),
        summary=clip(summary, 4000),
        kind=classify((event.title, *lines), "log_error", frozenset({"lock_wait"})),
        asset_code=event.node,
        service=event.service,
        occurred_at=parse_time(event.occurred_at),
    )
