"""The outbox: every task the agent has seen, each result until the hub's ACK, and each
AGENT_EVENT until the hub's EVENT_ACK.

A local SQLite file (stdlib sqlite3) used from one dedicated thread, so the event loop never
blocks on disk and the connection never changes threads. A task is written as `running`
before its first step starts, `finished` with its result, `acked` (result dropped, id kept)
when the hub has stored it: an id is never run twice, and a result survives restarts.

    running --finish--> finished --ack--> acked
       |                   ^
       +---agent restart---+  (FAILED: "the agent restarted while this task ran")

An event is a row from the moment it is made until its EVENT_ACK (then it is deleted): it
goes out on every WELCOME until then, always with the same event_id. Both tables are
bounded; beyond the bound the oldest unacknowledged rows go, with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import orjson

from agent.exceptions import OutboxError
from protocol import AgentEvent, TaskFinished, TaskResult, encode

log = logging.getLogger("guardia.agent.outbox")

#: 1: tasks; 2: events too (a version 1 file is upgraded in place)
SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS task (
    task_id    TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('running', 'finished', 'acked')),
    steps      TEXT NOT NULL,  -- JSON [[action, node], ...]: never params, they may hold tokens
    result     TEXT,           -- JSON {"status", "results", "content"} while finished
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS task_state ON task (state, updated_at);
CREATE TABLE IF NOT EXISTS event (
    event_id   TEXT PRIMARY KEY,
    body       TEXT NOT NULL,  -- the AGENT_EVENT as JSON
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS event_created ON event (created_at);
"""

TaskState = Literal["running", "finished", "acked"]
StepKey = tuple[str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class OutboxEntry:
    task_id: str
    state: TaskState
    steps: list[StepKey]
    result: TaskFinished | None


class OutboxFile:
    """The synchronous store; call it from one thread only (Outbox does)."""

    def __init__(self, path: Path, *, max_results: int, max_events: int = 1000) -> None:
        self.path = path
        self.max_results = max_results
        self.max_events = max_events
        #: ids of acknowledged tasks kept so that a late duplicate is still recognised
        self.max_acked = max_results * 10
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            os.chmod(path, 0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, 1, SCHEMA_VERSION):
                raise OutboxError(
                    f"outbox {path} has schema version {version}; expected {SCHEMA_VERSION} "
                    "(written by a newer agent?)"
                )
            self._db.executescript(SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"cannot open the outbox {path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def lookup(self, task_id: str) -> OutboxEntry | None:
        row = self._db.execute(
            "SELECT state, steps, result FROM task WHERE task_id = ?", (task_id,)
        ).fetchone()
        if row is None:
            return None
        state, steps, result = row
        return OutboxEntry(task_id, state, _steps(steps), _result(task_id, result))

    def begin(self, task_id: str, steps: list[StepKey]) -> None:
        try:
            self._db.execute(
                "INSERT INTO task (task_id, state, steps, updated_at) VALUES (?, 'running', ?, ?)",
                (task_id, orjson.dumps(steps).decode(), time.time()),
            )
        except sqlite3.IntegrityError:
            raise OutboxError(f"task {task_id} is already in the outbox") from None

    def finish(self, result: TaskFinished) -> None:
        steps = [(r.action, r.node) for r in result.results]
        body = orjson.dumps(
            result.model_dump(mode="json", include={"status", "results", "content"})
        )
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO task (task_id, state, steps, result, updated_at) "
                "VALUES (?, 'finished', ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET "
                "state = 'finished', result = excluded.result, updated_at = excluded.updated_at",
                (result.task_id, orjson.dumps(steps).decode(), body.decode(), time.time()),
            )
            self._prune()

    def ack(self, task_id: str) -> bool:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "UPDATE task SET state = 'acked', result = NULL, updated_at = ? "
                "WHERE task_id = ? AND state = 'finished'",
                (time.time(), task_id),
            )
            self._prune()
        return cursor.rowcount > 0

    def unacknowledged(self) -> list[TaskFinished]:
        rows = self._db.execute(
            "SELECT task_id, result FROM task WHERE state = 'finished' ORDER BY updated_at"
        ).fetchall()
        return [r for r in (_result(task_id, body) for task_id, body in rows) if r is not None]

    def interrupted(self) -> list[OutboxEntry]:
        rows = self._db.execute(
            "SELECT task_id, steps FROM task WHERE state = 'running' ORDER BY updated_at"
        ).fetchall()
        return [OutboxEntry(task_id, "running", _steps(steps), None) for task_id, steps in rows]

    def add_event(self, event: AgentEvent) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR IGNORE INTO event (event_id, body, created_at) VALUES (?, ?, ?)",
                (event.event_id, encode(event), time.time()),
            )
            dropped = self._db.execute(
                "DELETE FROM event WHERE event_id NOT IN (SELECT event_id FROM event "
                "ORDER BY created_at DESC, rowid DESC LIMIT ?) RETURNING event_id",
                (self.max_events,),
            ).fetchall()
        for (event_id,) in dropped:
            log.warning(
                "outbox full (%d events): dropped event %s, never acknowledged by the hub",
                self.max_events,
                event_id,
            )

    def ack_event(self, event_id: str) -> bool:
        cursor = self._db.execute("DELETE FROM event WHERE event_id = ?", (event_id,))
        return cursor.rowcount > 0

    def pending_events(self) -> list[AgentEvent]:
        rows = self._db.execute("SELECT body FROM event ORDER BY created_at, rowid").fetchall()
        return [AgentEvent.model_validate(orjson.loads(body)) for (body,) in rows]

    def counts(self) -> tuple[int, int]:
        """(results waiting for ACK, events waiting for EVENT_ACK)."""
        results = self._db.execute("SELECT count(*) FROM task WHERE state = 'finished'")
        events = self._db.execute("SELECT count(*) FROM event")
        return int(results.fetchone()[0]), int(events.fetchone()[0])

    def _prune(self) -> None:
        """Bound the file: old acknowledged ids first, then (loudly) the oldest results."""
        self._db.execute(
            "DELETE FROM task WHERE state = 'acked' AND task_id NOT IN (SELECT task_id FROM "
            "task WHERE state = 'acked' ORDER BY updated_at DESC LIMIT ?)",
            (self.max_acked,),
        )
        dropped = self._db.execute(
            "DELETE FROM task WHERE state = 'finished' AND task_id NOT IN (SELECT task_id FROM "
            "task WHERE state = 'finished' ORDER BY updated_at DESC LIMIT ?) RETURNING task_id",
            (self.max_results,),
        ).fetchall()
        for (task_id,) in dropped:
            log.warning(
                "outbox full (%d results): dropped the result of task %s, never "
                "acknowledged by the hub",
                self.max_results,
                task_id,
            )


def _steps(text: str) -> list[StepKey]:
    return [(str(action), str(node)) for action, node in orjson.loads(text)]


def _result(task_id: str, text: str | None) -> TaskFinished | None:
    if text is None:
        return None
    body = orjson.loads(text)
    results = [TaskResult.model_validate(r) for r in body["results"]]
    return TaskFinished(
        task_id=task_id, status=body["status"], results=results, content=body.get("content", "")
    )


class Outbox:
    """The asyncio face of OutboxFile: every call runs on the outbox's own thread."""

    def __init__(self, store: OutboxFile, executor: ThreadPoolExecutor) -> None:
        self._store = store
        self._executor = executor
        #: told (results, events) waiting after every change: the metrics' gauges
        self.on_counts: Callable[[int, int], None] | None = None

    @classmethod
    async def open(cls, path: Path, *, max_results: int = 1000, max_events: int = 1000) -> Outbox:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guardia-outbox")
        loop = asyncio.get_running_loop()
        try:
            store = await loop.run_in_executor(
                executor,
                lambda: OutboxFile(path, max_results=max_results, max_events=max_events),
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor)

    @property
    def path(self) -> Path:
        return self._store.path

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def lookup(self, task_id: str) -> OutboxEntry | None:
        return await self._call(lambda: self._store.lookup(task_id))

    async def begin(self, task_id: str, steps: list[StepKey]) -> None:
        await self._call(lambda: self._store.begin(task_id, steps))

    async def finish(self, result: TaskFinished) -> None:
        await self._changed(lambda: self._store.finish(result))

    async def ack(self, task_id: str) -> bool:
        return await self._changed(lambda: self._store.ack(task_id))

    async def unacknowledged(self) -> list[TaskFinished]:
        return await self._call(self._store.unacknowledged)

    async def interrupted(self) -> list[OutboxEntry]:
        return await self._call(self._store.interrupted)

    async def add_event(self, event: AgentEvent) -> None:
        await self._changed(lambda: self._store.add_event(event))

    async def ack_event(self, event_id: str) -> bool:
        return await self._changed(lambda: self._store.ack_event(event_id))

    async def _changed(self, fn: Callable[[], T]) -> T:
        """A change, then the counts for whoever watches them (same thread, same order)."""
        store, notify = self._store, self.on_counts

        def change() -> T:
            value = fn()
            if notify is not None:
                notify(*store.counts())
            return value

        return await self._call(change)

    async def pending_events(self) -> list[AgentEvent]:
        return await self._call(self._store.pending_events)

    async def counts(self) -> tuple[int, int]:
        return await self._call(self._store.counts)

    async def close(self) -> None:
        await self._call(self._store.close)
        self._executor.shutdown(wait=True)
