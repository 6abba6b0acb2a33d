"""The agent's own Prometheus metrics, in a registry of its own (never the global one).

    guardia_agent_tasks_total{action, outcome}       one per step result the agent reported
    guardia_agent_step_duration_seconds{action}      how long each step that ran took
    guardia_agent_outbox_results / _outbox_events    waiting in the outbox for the hub's ACK
    guardia_agent_link_up                            1 while the hub has welcomed the link
    guardia_agent_reconnects_total                   links lost (or refused) and dialled again
    guardia_agent_events_total{severity}             AGENT_EVENTs made by log watches
    guardia_agent_events_refused_total               AGENT_EVENTs the hub refused, dropped

`outcome` is `succeeded`, `failed`, `refused` (never run: signature, deadline, config),
`cancelled`, `timed_out` or `not_run` (a step after a failed one).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from protocol import AgentEvent, TaskFinished, TaskResult

#: seconds: status checks take milliseconds, restarts and deploys minutes
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class AgentMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.tasks = Counter(
            "guardia_agent_tasks", "Step results reported, by action and outcome",
            ["action", "outcome"], registry=r,
        )  # fmt: skip
        self.step_seconds = Histogram(
            "guardia_agent_step_duration_seconds", "Duration of each step that ran",
            ["action"], buckets=STEP_BUCKETS, registry=r,
        )  # fmt: skip
        self.outbox_results = Gauge(
            "guardia_agent_outbox_results", "Results waiting for the hub's ACK", registry=r
        )
        self.outbox_events = Gauge(
            "guardia_agent_outbox_events", "Events waiting for the hub's EVENT_ACK", registry=r
        )
        self.link_up = Gauge(
            "guardia_agent_link_up", "1 while the hub has welcomed the link", registry=r
        )
        self.reconnects = Counter(
            "guardia_agent_reconnects", "Links lost or refused, then dialled again", registry=r
        )
        self.events = Counter(
            "guardia_agent_events", "AGENT_EVENTs made by log watches", ["severity"], registry=r
        )
        self.events_refused = Counter(
            "guardia_agent_events_refused",
            "AGENT_EVENTs the hub refused (FORBIDDEN: not this agent's node), dropped",
            registry=r,
        )

    def task_finished(self, finished: TaskFinished, *, refused: bool = False) -> None:
        for result in finished.results:
            self.tasks.labels(result.action, outcome(finished, result, refused)).inc()
            if not refused and not result.summary.startswith("not run"):
                self.step_seconds.labels(result.action).observe(result.duration_ms / 1000)

    def outbox_changed(self, results: int, events: int) -> None:
        self.outbox_results.set(results)
        self.outbox_events.set(events)

    def event_made(self, event: AgentEvent) -> None:
        self.events.labels(event.severity).inc()

    def event_refused(self, event: AgentEvent) -> None:
        self.events_refused.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def outcome(finished: TaskFinished, result: TaskResult, refused: bool) -> str:
    if refused:
        return "refused"
    if result.ok:
        return "succeeded"
    if result.summary.startswith("not run"):
        return "not_run"
    if finished.status == "CANCELLED":
        return "cancelled"
    if finished.status == "TIMED_OUT":
        return "timed_out"
    return "failed"
