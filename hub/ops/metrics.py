"""The hub's Prometheus metrics: one registry per process, its metrics, and the one-line calls
the rest of the hub makes where things happen (operations.md, Metrics, lists them all).

Cheap on the hot paths: frames in and out are plain integers on a `FrameTally` per endpoint
(no lock, no allocation per frame), read by a collector when Prometheus scrapes; everything
else is counted at most once per stored batch, command, task move, query or request.
Gauges that describe the whole site (tasks by state, pending approvals) are read from the
database at scrape time (`hub.ops.scrape`), so every hub of a cluster reports the same
numbers; what a hub holds itself (sockets, agent links) is this hub's alone.

`disable()` (GUARDIA_METRICS=0) swaps every metric for a no-op, only to measure what they
cost (bench/README.md).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series: Prometheus does not need them
#: one registry per process; every hub of a cluster is scraped on its own
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

#: the WebSocket endpoints, by the kind of principal on them
ENDPOINTS = {"user": "chat", "agent": "agent"}

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_COMMAND = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: a task may wait for an approver (30 min) or for its agent (10 min), and run 10 min
_TASK = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
_REDIS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


class FrameTally:
    """Frames in and out of one endpoint: incremented per frame, so plain integers.

    `writer_wakeups`: times a socket's writer task was woken because a frame could not be
    written at once (hub/wire/connection.py); near 0 while every peer reads.
    """

    __slots__ = ("received", "sent", "writer_wakeups")

    def __init__(self) -> None:
        self.received = 0
        self.sent = 0
        self.writer_wakeups = 0


TALLIES = {endpoint: FrameTally() for endpoint in ENDPOINTS.values()}


def tally(kind: str) -> FrameTally:
    """The tally of the endpoint a principal of this kind ("user", "agent") is on."""
    return TALLIES[ENDPOINTS.get(kind, "chat")]


class _FrameCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        received = CounterMetricFamily(
            "guardia_ws_frames_received", "WebSocket frames received", labels=["endpoint"]
        )
        sent = CounterMetricFamily(
            "guardia_ws_frames_sent", "WebSocket frames written to sockets", labels=["endpoint"]
        )
        wakeups = CounterMetricFamily(
            "guardia_ws_writer_wakeups",
            "times a socket's writer task was woken to write what could not go out at once",
            labels=["endpoint"],
        )
        for endpoint, counts in TALLIES.items():
            received.add_metric([endpoint], counts.received)
            sent.add_metric([endpoint], counts.sent)
            wakeups.add_metric([endpoint], counts.writer_wakeups)
        return [received, sent, wakeups]


REGISTRY.register(_FrameCollector())


def _counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(name, doc, labels, registry=REGISTRY)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
    return Gauge(name, doc, labels, registry=REGISTRY)


def _histogram(
    name: str, doc: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
) -> Histogram:
    return Histogram(name, doc, labels, buckets=buckets, registry=REGISTRY)


BUILD_INFO = _gauge("guardia_build_info", "the hub's version (always 1)", ("version",))

# -- the wire -------------------------------------------------------------------------------
WS_CONNECTIONS = _gauge(
    "guardia_ws_connections", "open authenticated WebSocket connections", ("endpoint",)
)
WS_SLOW_READERS = _counter(
    "guardia_ws_slow_readers_dropped_total",
    "sockets dropped because their send queue was full (a client not reading)",
    ("endpoint",),
)
WS_RATE_LIMITED = _counter(
    "guardia_ws_rate_limited_frames_total",
    "frames refused RATE_LIMITED (over the principal's rate budget)",
    ("endpoint",),
)
AUTH_REJECTED = _counter(
    "guardia_auth_rejected_total",
    "refused sign-ins: a missing, unknown, revoked or expired token, or the wrong kind",
    ("endpoint", "reason"),
)

# -- rooms ----------------------------------------------------------------------------------
MESSAGES_STORED = _counter("guardia_room_messages_stored_total", "room messages stored")
STORE_SECONDS = _histogram(
    "guardia_room_store_seconds", "time to store one batch of room messages (one commit)", _FAST
)

# -- commands -------------------------------------------------------------------------------
COMMANDS = _counter(
    "guardia_commands_total",
    "commands addressed to the bot, by the plan's intent and what came of them",
    ("intent", "outcome"),
)
PARSE_SECONDS = _histogram(
    "guardia_command_parse_seconds", "time to parse a command", _COMMAND, ("parser",)
)
PLAN_SECONDS = _histogram(
    "guardia_command_plan_seconds", "time from a command to its COMMAND_PLAN in the room", _COMMAND
)

# -- tasks ----------------------------------------------------------------------------------
TASKS = _gauge(
    "guardia_tasks",
    "tasks not yet ended, by state (from the database: the same on every hub)",
    ("state",),
)
TASK_TRANSITIONS = _counter(
    "guardia_task_transitions_total",
    "task state changes made by this hub",
    ("from_state", "to_state"),
)
DISPATCH_SECONDS = _histogram(
    "guardia_task_dispatch_seconds",
    "time from a command's task to its dispatch to the agent (approval: whether it waited)",
    _TASK,
    ("approval",),
)
FINISH_SECONDS = _histogram(
    "guardia_task_finish_seconds", "time from a command's task to its end", _TASK, ("state",)
)
APPROVALS_REQUESTED = _counter("guardia_approvals_requested_total", "approval requests posted")
APPROVALS_DECIDED = _counter(
    "guardia_approvals_decided_total",
    "approval requests closed other than by expiry",
    ("decision",),
)
APPROVALS_EXPIRED = _counter(
    "guardia_approvals_expired_total", "approval requests nobody decided in time"
)
APPROVALS_PENDING = _gauge(
    "guardia_approvals_pending", "approval requests waiting for a decision (database)"
)

# -- agents ---------------------------------------------------------------------------------
AGENTS_CONNECTED = _gauge("guardia_agents_connected", "agents with a live link to this hub")
AGENT_HEARTBEAT_AGE = _gauge(
    "guardia_agent_heartbeat_age_seconds",
    "seconds since this hub last heard from each agent it holds",
    ("agent_id",),
)

# -- the proactive bot and alerts -----------------------------------------------------------
SUGGESTIONS = _counter(
    "guardia_suggestions_total",
    "the proactive bot's suggestions: offered, accepted, dismissed, muted",
    ("kind", "outcome"),
)
ALERTS = _counter(
    "guardia_alerts_total",
    "alerts taken in: received (a new incident), deduplicated (folded), ignored",
    ("source", "outcome"),
)

# -- the database, Redis, HTTP --------------------------------------------------------------
DB_SECONDS = _histogram(
    "guardia_db_query_seconds", "database statement latency", _FAST, ("operation",)
)
REDIS_SECONDS = _histogram("guardia_redis_call_seconds", "Redis call latency", _REDIS, ("call",))
REDIS_ERRORS = _counter("guardia_redis_errors_total", "Redis calls that failed", ("call",))
HTTP_REQUESTS = _counter(
    "guardia_http_requests_total",
    "HTTP requests by route template (not the raw path) and status",
    ("method", "route", "status"),
)
HTTP_SECONDS = _histogram(
    "guardia_http_request_seconds", "HTTP request latency by route template", _COMMAND, ("route",)
)


def exposition() -> bytes:
    """The text exposition format of everything this process counts."""
    return generate_latest(REGISTRY)


# -- one-line calls ---------------------------------------------------------------------------


def endpoint(kind: str) -> str:
    return ENDPOINTS.get(kind, "chat")


def connection_opened(kind: str) -> None:
    WS_CONNECTIONS.labels(endpoint(kind)).inc()


def connection_closed(kind: str) -> None:
    WS_CONNECTIONS.labels(endpoint(kind)).dec()


def slow_reader_dropped(kind: str) -> None:
    WS_SLOW_READERS.labels(endpoint(kind)).inc()


def rate_limited(kind: str) -> None:
    WS_RATE_LIMITED.labels(endpoint(kind)).inc()


def auth_rejected(where: str, reason: str) -> None:
    """`where`: chat, agent or http; `reason`: missing, invalid, wrong_kind."""
    AUTH_REJECTED.labels(where, reason).inc()


def messages_stored(count: int, seconds: float) -> None:
    MESSAGES_STORED.inc(count)
    STORE_SECONDS.observe(seconds)


def suggestion(kind: str, outcome: str) -> None:
    """For the proactive bot: `outcome` one of offered, accepted, dismissed, muted."""
    SUGGESTIONS.labels(kind, outcome).inc()


def alert(source: str, outcome: str) -> None:
    """For the incident intake: `outcome` one of received, deduplicated, ignored."""
    ALERTS.labels(source, outcome).inc()


def db_statement(operation: str, seconds: float) -> None:
    DB_SECONDS.labels(operation).observe(seconds)


@contextlib.contextmanager
def redis_call(call: str) -> Iterator[None]:
    """Times one Redis call; a failure is counted and goes on up."""
    start = time.perf_counter()
    try:
        yield
    except Exception:
        REDIS_ERRORS.labels(call).inc()
        raise
    finally:
        REDIS_SECONDS.labels(call).observe(time.perf_counter() - start)


def http_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(route).observe(seconds)


# -- tasks: every move of the state table goes through TaskStore.transition -------------------

_WAITING = frozenset({"QUEUED", "APPROVED"})
_FINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "REJECTED", "EXPIRED"})


def task_moved(old: str, new: str, created_at: datetime) -> None:
    """A task went from `old` to `new`: transitions, latencies from its command, approvals."""
    TASK_TRANSITIONS.labels(old, new).inc()
    if new == "PENDING_APPROVAL":
        APPROVALS_REQUESTED.inc()
    elif old == "PENDING_APPROVAL":
        if new == "EXPIRED":
            APPROVALS_EXPIRED.inc()
        else:
            APPROVALS_DECIDED.labels(new.lower()).inc()
    if new == "DISPATCHED" and old in _WAITING:
        DISPATCH_SECONDS.labels("yes" if old == "APPROVED" else "no").observe(_since(created_at))
    elif new in _FINAL:
        FINISH_SECONDS.labels(new).observe(_since(created_at))


def _since(moment: datetime) -> float:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


# -- scrape time ------------------------------------------------------------------------------


def set_agents(ages: dict[str, float]) -> None:
    """The agents this hub holds, each with the seconds since its last frame."""
    AGENTS_CONNECTED.set(len(ages))
    AGENT_HEARTBEAT_AGE.clear()
    for agent_id, age in ages.items():
        AGENT_HEARTBEAT_AGE.labels(agent_id).set(age)


def set_site(tasks_by_state: dict[str, int], pending_approvals: int, live: Iterable[str]) -> None:
    """The database's view: every live state gets a value, 0 included."""
    for state in live:
        TASKS.labels(state).set(tasks_by_state.get(state, 0))
    APPROVALS_PENDING.set(pending_approvals)


# -- off, for measuring -----------------------------------------------------------------------


class _Noop:
    """Stands in for every metric when metrics are off."""

    def labels(self, *args: Any, **kwargs: Any) -> _Noop:
        return self

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def disable() -> None:
    """Every metric becomes a no-op (GUARDIA_METRICS=0): to measure what they cost."""
    noop = _Noop()
    for name, value in list(globals().items()):
        if isinstance(value, Counter | Gauge | Histogram):
            globals()[name] = noop
