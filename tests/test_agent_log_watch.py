"""Log watches: lines matching a pattern become AGENT_EVENTs, kept until EVENT_ACK.

Pure parts (the matcher, the follower's rotation handling) table-driven or on real files;
the rest through the daemon against the fake hub of test_agent_link.py (the real hub does
not take AGENT_EVENT yet), and over a real OpenSSH server for an ssh node.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_agent_actions import SshServer, sshd  # noqa: F401 (the sshd fixture)
from test_agent_link import (
    HUB_KEY,
    WAIT,
    FakeHub,
    make_settings,
    running,
)

from agent.daemon import AgentDaemon
from agent.log_follow import MAX_LINE_BYTES, FileFollower
from agent.log_match import LogMatcher
from agent.outbox import OutboxFile
from protocol import AgentEvent, Error, ErrorCode, EventAck
from protocol.signing import public_key_to_pem

# -- the matcher, pure ------------------------------------------------------------------------


def feed(matcher: LogMatcher, *timed: tuple[float, str]) -> list[tuple[str, list[str], int]]:
    """Lines at given times; the finished drafts as (pattern, lines, folded)."""
    done = []
    for now, line in timed:
        done += matcher.line_received(line, now) if line else matcher.tick(now)
    return [(d.pattern, d.lines, d.folded) for d in done]


MATCHER_CASES: list[tuple[str, dict[str, Any], list[tuple[float, str]], list[Any]]] = [
    ("no match", {}, [(0, "INFO all good"), (1, "DEBUG x")], []),
    ("a match waits for its context", {}, [(0, "ERROR boom")], []),
    ("context by count", {"context_lines": 2},
     [(0, "ERROR boom"), (0.1, "\tat a"), (0.2, "\tat b"), (0.3, "INFO later")],
     [("ERROR", ["ERROR boom", "\tat a", "\tat b"], 0)]),
    ("context by time", {"context_lines": 5},
     [(0, "ERROR boom"), (0.5, "\tat a"), (1.0, "")],
     [("ERROR", ["ERROR boom", "\tat a"], 0)]),
    ("no context", {"context_lines": 0}, [(0, "ERROR boom")], [("ERROR", ["ERROR boom"], 0)]),
    ("first pattern that matches", {"context_lines": 0},
     [(0, "OutOfMemoryError and ERROR")], [("OutOfMemoryError", ["OutOfMemoryError and ERROR"], 0)]),
    ("a burst folds into one", {"context_lines": 0},
     [(0, "ERROR 1"), (1, "ERROR 2"), (2, "ERROR 3"), (9.9, "ERROR 4")],
     [("ERROR", ["ERROR 1"], 0)]),
    ("the next event counts what was folded", {"context_lines": 0},
     [(0, "ERROR 1"), (1, "ERROR 2"), (2, "ERROR 3"), (10, "ERROR 4"), (11, "ERROR 5"),
      (20, "ERROR 6")],
     [("ERROR", ["ERROR 1"], 0), ("ERROR", ["ERROR 4"], 2), ("ERROR", ["ERROR 6"], 1)]),
    ("matches inside the context are the event's", {"context_lines": 2},
     [(0, "ERROR 1"), (0.1, "ERROR 2"), (0.2, "ERROR 3"), (10, "ERROR 4"), (11, "")],
     [("ERROR", ["ERROR 1", "ERROR 2", "ERROR 3"], 0), ("ERROR", ["ERROR 4"], 0)]),
    ("a regex, searched anywhere", {"patterns": [r"\bORA-\d{5}\b"], "context_lines": 0},
     [(0, "x ORA-0060 short"), (1, "y ORA-00060: deadlock")],
     [(r"\bORA-\d{5}\b", ["y ORA-00060: deadlock"], 0)]),
    ("a long line is cut", {"context_lines": 0}, [(0, "ERROR " + "x" * 5000)],
     [("ERROR", ["ERROR " + "x" * 1994], 0)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "options", "lines", "events"), MATCHER_CASES, ids=[c[0] for c in MATCHER_CASES]
)
def test_matcher(
    case: str, options: dict[str, Any], lines: list[tuple[float, str]], events: list[Any]
) -> None:
    settings = {"patterns": ["OutOfMemoryError", "ERROR"], "min_interval": 10.0, **options}
    assert feed(LogMatcher(**settings), *lines) == events


def test_the_matcher_says_when_to_tick() -> None:
    matcher = LogMatcher(["ERROR"], min_interval=10, context_lines=3)
    assert matcher.next_deadline() is None
    matcher.line_received("ERROR", 5.0)
    assert matcher.next_deadline() == 6.0
    assert matcher.tick(5.9) == [] and len(matcher.tick(6.0)) == 1
    assert matcher.next_deadline() is None


# -- the follower, on real files ---------------------------------------------------------------


@pytest.fixture
def follow() -> Iterator[Callable[[Path], FileFollower]]:
    """A started follower of a path, closed after the test."""
    made: list[FileFollower] = []

    def start(path: Path) -> FileFollower:
        follower = FileFollower(str(path))
        follower.start()
        made.append(follower)
        return follower

    yield start
    for follower in made:
        follower.close()


def append(path: Path, text: str) -> None:
    with path.open("a") as fh:
        fh.write(text)


def test_only_new_lines_count_and_partial_lines_wait(
    tmp_path: Path, follow: Callable[[Path], FileFollower]
) -> None:
    log = tmp_path / "app.log"
    log.write_text("old 1\nold 2\n")
    follower = follow(log)
    assert follower.poll() == []
    append(log, "new 1\nnew 2\npart")
    assert follower.poll() == ["new 1", "new 2"]
    append(log, "ial\r\n")
    assert follower.poll() == ["partial"]


def test_rotation_by_rename_reads_the_old_rest_then_the_new_file(
    tmp_path: Path, follow: Callable[[Path], FileFollower]
) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    follower = follow(log)
    append(log, "before\nlast of old")
    log.rename(tmp_path / "app.log.1")
    append(tmp_path / "app.log.1", " file\n")  # the app still writes to the old one
    assert follower.poll() == ["before", "last of old file"]  # the new file is not there yet
    log.write_text("first of new\n")
    assert follower.poll() == ["first of new"]
    append(log, "second of new\n")
    assert follower.poll() == ["second of new"]


def test_copytruncate_reads_again_from_the_start(
    tmp_path: Path, follow: Callable[[Path], FileFollower]
) -> None:
    log = tmp_path / "app.log"
    log.write_text("x" * 100 + "\n")
    follower = follow(log)
    append(log, "one\n")
    assert follower.poll() == ["one"]
    with log.open("r+") as fh:
        fh.truncate(0)
    append(log, "after truncate\n")
    assert follower.poll() == ["after truncate"]


def test_a_file_that_appears_later_is_read_from_its_start(
    tmp_path: Path, follow: Callable[[Path], FileFollower]
) -> None:
    log = tmp_path / "later.log"
    follower = follow(log)
    assert follower.poll() == []
    log.write_text("hello\n")
    assert follower.poll() == ["hello"]


def test_an_endless_line_is_cut(tmp_path: Path, follow: Callable[[Path], FileFollower]) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    follower = follow(log)
    append(log, "y" * (MAX_LINE_BYTES + 10))
    assert follower.poll() == ["y" * MAX_LINE_BYTES]
    append(log, "\n")
    assert follower.poll() == ["y" * 10]


# -- the outbox keeps events ---------------------------------------------------------------------


def make_event(n: int) -> AgentEvent:
    return AgentEvent(event_id=f"e{n}", node="WEB-01", service="app", title=f"ERROR {n}",
                      lines=[f"ERROR {n}"], pattern="ERROR", path="/var/log/app.log",
                      occurred_at="2026-05-23T19:00:00.000Z")  # fmt: skip


def test_events_are_kept_until_acknowledged_and_bounded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = OutboxFile(tmp_path / "outbox.sqlite", max_results=10, max_events=10)
    for n in range(15):
        store.add_event(make_event(n))
    store.add_event(make_event(14))  # the same event again: still one
    assert [e.event_id for e in store.pending_events()] == [f"e{n}" for n in range(5, 15)]
    assert caplog.text.count("outbox full (10 events): dropped event") == 5
    assert store.ack_event("e7") and not store.ack_event("e7")
    assert store.counts() == (0, 9)
    store.close()
    again = OutboxFile(tmp_path / "outbox.sqlite", max_results=10, max_events=10)
    assert [e.event_id for e in again.pending_events()][:3] == ["e5", "e6", "e8"]
    stored = again.pending_events()[0].model_dump(exclude={"message_id"})
    assert stored == make_event(5).model_dump(exclude={"message_id"})
    again.close()


def test_a_version_1_outbox_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE task (task_id TEXT PRIMARY KEY, state TEXT NOT NULL, steps TEXT NOT "
            "NULL, result TEXT, updated_at REAL NOT NULL); PRAGMA user_version = 1;"
        )
        db.execute("INSERT INTO task VALUES ('t1', 'acked', '[]', NULL, 0)")
    store = OutboxFile(path, max_results=10)
    store.add_event(make_event(1))
    assert store.lookup("t1") is not None and len(store.pending_events()) == 1
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


# -- the daemon against the fake hub -------------------------------------------------------------


def watch_config(tmp_path: Path, *, min_interval: float = 30, context: int = 3) -> Path:
    config = tmp_path / "agent.yaml"
    (tmp_path / "hub.pub").write_bytes(public_key_to_pem(HUB_KEY.public_key()))
    config.write_text(
        f"""
hub_public_key: {tmp_path / "hub.pub"}
outbox: {tmp_path / "outbox.sqlite"}
shutdown_grace: 0
reconnect: {{initial_delay: 0.05, max_delay: 0.2}}
nodes:
  WEB-01: {{transport: local}}
services:
  app: {{log_path: {tmp_path / "app.log"}}}
watch:
  - node: WEB-01
    service: app
    patterns: ["OutOfMemoryError", "ERROR .*failed"]
    min_interval: {min_interval}
    context_lines: {context}
    severity: CRITICAL
"""
    )
    (tmp_path / "app.log").write_text("INFO started\nERROR old failed before the agent\n")
    return config


@pytest.fixture
async def hub() -> AsyncIterator[FakeHub]:
    server = FakeHub()
    await server.start()
    yield server
    with contextlib.suppress(Exception):
        await server.stop()


@contextlib.asynccontextmanager
async def watching(hub: FakeHub, config: Path) -> AsyncIterator[AgentDaemon]:
    daemon = AgentDaemon(make_settings(hub, config))
    async with running(daemon):
        await asyncio.wait_for(daemon.started.wait(), WAIT)
        assert daemon.watches is not None
        await asyncio.wait_for(daemon.watches.following(), WAIT)
        yield daemon


async def pending(daemon: AgentDaemon) -> list[str]:
    assert daemon.outbox is not None
    return [e.event_id for e in await daemon.outbox.pending_events()]


async def test_a_matching_line_becomes_one_event(hub: FakeHub, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    async with watching(hub, watch_config(tmp_path)) as daemon:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        append(log, "INFO request 1\n")
        append(log, "java.lang.OutOfMemoryError: Java heap space\n\tat a.B.c(B.java:10)\n"
                    "\tat a.B.d(B.java:20)\n\tat a.B.e(B.java:30)\n\tat a.B.f(B.java:40)\n")  # fmt: skip
        event = await hub.expect("AGENT_EVENT")
        assert event["node"] == "WEB-01" and event["service"] == "app"
        assert event["source"] == "log_watch" and event["severity"] == "CRITICAL"
        assert event["pattern"] == "OutOfMemoryError"
        assert event["path"] == str(log)
        assert event["lines"] == ["java.lang.OutOfMemoryError: Java heap space",
                                  "\tat a.B.c(B.java:10)", "\tat a.B.d(B.java:20)",
                                  "\tat a.B.e(B.java:30)"]  # fmt: skip
        assert event["title"] == "WEB-01 app: java.lang.OutOfMemoryError: Java heap space"
        assert event["folded"] == 0 and event["occurred_at"].endswith("Z")
        assert await pending(daemon) == [event["event_id"]]
        await hub.send(EventAck(event_id=event["event_id"]))
        await hub.sync()
        assert await pending(daemon) == []
        await asyncio.sleep(1.2)  # nothing more came of that burst, nor of the old line
        assert all(f["msg_type"] != "AGENT_EVENT" for f in drain(hub))


def drain(hub: FakeHub) -> list[dict[str, Any]]:
    frames = []
    while not hub.frames.empty():
        frames.append(hub.frames.get_nowait())
    return frames


async def test_lines_written_while_the_hub_is_down_arrive_when_it_is_back(
    hub: FakeHub, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    async with watching(hub, watch_config(tmp_path, min_interval=0.01, context=0)) as daemon:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        port = hub.port
        await hub.stop()
        for count, line in enumerate(["ERROR payment failed\n", "ERROR refund failed\n"], 1):
            append(log, line)
            async with asyncio.timeout(WAIT):
                while len(await pending(daemon)) < count:
                    await asyncio.sleep(0.05)
        kept = await pending(daemon)
        assert hub.frames.empty()
        await hub.start(port)
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        got = [await hub.expect("AGENT_EVENT"), await hub.expect("AGENT_EVENT")]
        assert [e["event_id"] for e in got] == kept
        assert [e["lines"] for e in got] == [["ERROR payment failed"], ["ERROR refund failed"]]
        for e in got:
            await hub.send(EventAck(event_id=e["event_id"]))
        await hub.sync()
        assert await pending(daemon) == []


async def test_an_event_the_hub_refuses_is_dropped_and_a_failed_one_kept(
    hub: FakeHub, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    async with watching(hub, watch_config(tmp_path, min_interval=0.01, context=0)) as daemon:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        append(log, "ERROR payment failed\n")
        refused = await hub.expect("AGENT_EVENT")
        # FORBIDDEN (the CMDB gives the node to another agent): no resend will cure it
        await hub.send(
            Error(code=ErrorCode.FORBIDDEN, message="not yours", ref=refused["message_id"])
        )
        await hub.sync()
        assert await pending(daemon) == []
        refusals = daemon.metrics.registry.get_sample_value("guardia_agent_events_refused_total")
        assert refusals == 1
        append(log, "ERROR refund failed\n")
        failed = await hub.expect("AGENT_EVENT")
        # the hub could not store it: kept, and sent again on the next connection
        await hub.send(Error(code=ErrorCode.INTERNAL, message="oops", ref=failed["message_id"]))
        await hub.sync()
        assert await pending(daemon) == [failed["event_id"]]
        # an ERROR about something else (here, no frame of ours) changes nothing
        await hub.send(Error(code=ErrorCode.FORBIDDEN, message="?", ref="not-an-event"))
        await hub.sync()
        assert await pending(daemon) == [failed["event_id"]]
        assert hub.ws is not None
        hub.connected.clear()
        await hub.ws.close()  # the link drops: the kept event goes again, the refused never
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        again = await hub.expect("AGENT_EVENT")
        assert again["event_id"] == failed["event_id"]
        await hub.sync()
        assert all(f["msg_type"] != "AGENT_EVENT" for f in drain(hub))


async def test_unacknowledged_events_are_resent_after_a_restart_of_the_agent(
    hub: FakeHub, tmp_path: Path
) -> None:
    config = watch_config(tmp_path, context=0)
    async with watching(hub, config):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        append(tmp_path / "app.log", "ERROR job failed\n")
        first = await hub.expect("AGENT_EVENT")  # never acknowledged
    hub.connected.clear()
    async with watching(hub, config) as again:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        resent = await hub.expect("AGENT_EVENT")
        assert resent["event_id"] == first["event_id"]
        assert resent["lines"] == first["lines"]
        await hub.send(EventAck(event_id=first["event_id"]))
        await hub.sync()
        assert await pending(again) == []


async def test_a_rotated_or_truncated_file_is_followed(hub: FakeHub, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    async with watching(hub, watch_config(tmp_path, min_interval=0.01, context=0)):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        append(log, "ERROR before rotation failed\n")
        assert (await hub.expect("AGENT_EVENT"))["lines"] == ["ERROR before rotation failed"]
        log.rename(tmp_path / "app.log.1")  # logrotate's default: rename, then a new file
        log.write_text("ERROR in the new file failed\n")
        assert (await hub.expect("AGENT_EVENT"))["lines"] == ["ERROR in the new file failed"]
        with log.open("r+") as fh:  # copytruncate
            fh.truncate(0)
        await asyncio.sleep(0.6)
        append(log, "ERROR after truncation failed\n")
        assert (await hub.expect("AGENT_EVENT"))["lines"] == ["ERROR after truncation failed"]


async def test_min_interval_folds_a_burst(hub: FakeHub, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    async with watching(hub, watch_config(tmp_path, min_interval=2, context=0)):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        append(log, "".join(f"ERROR request {n} failed\n" for n in range(50)))
        first = await hub.expect("AGENT_EVENT")
        assert first["lines"] == ["ERROR request 0 failed"] and first["folded"] == 0
        await asyncio.sleep(1.0)
        append(log, "ERROR request 50 failed\n")  # still within min_interval: folded too
        await hub.sync()
        assert all(f["msg_type"] != "AGENT_EVENT" for f in drain(hub))
        await asyncio.sleep(1.2)
        append(log, "ERROR request 51 failed\n")
        second = await hub.expect("AGENT_EVENT")
        assert second["lines"] == ["ERROR request 51 failed"]
        assert second["folded"] == 50


@pytest.mark.ssh
async def test_an_ssh_node_is_followed_over_its_connection(
    hub: FakeHub,
    tmp_path: Path,
    sshd: SshServer,  # noqa: F811
) -> None:
    log = tmp_path / "remote.log"
    log.write_text("")
    (tmp_path / "known_hosts").write_text(sshd.known_hosts_line())
    (tmp_path / "hub.pub").write_bytes(public_key_to_pem(HUB_KEY.public_key()))
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"""
hub_public_key: {tmp_path / "hub.pub"}
known_hosts: {tmp_path / "known_hosts"}
outbox: {tmp_path / "outbox.sqlite"}
shutdown_grace: 0
nodes:
  DB-01: {{transport: ssh, host: 127.0.0.1, port: {sshd.port}, user: {getpass.getuser()},
          key_file: {sshd.user_key}}}
services:
  db: {{log_path: {log}}}
watch:
  - {{node: DB-01, service: db, patterns: ["FATAL"], min_interval: 0.01, context_lines: 0}}
"""
    )
    daemon = AgentDaemon(make_settings(hub, config))
    async with running(daemon):
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        assert daemon.watches is not None
        await asyncio.wait_for(daemon.watches.following(), WAIT)
        # tail on the node may start reading a moment after it was started: repeat the line
        async with asyncio.timeout(WAIT):
            while True:
                append(log, "FATAL: the database system is shutting down\n")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        event = await hub.expect("AGENT_EVENT")
                        break
        assert event["node"] == "DB-01" and event["path"] == str(log)
        assert event["lines"] == ["FATAL: the database system is shutting down"]
        log.rename(tmp_path / "remote.log.1")
        log.write_text("")
        await asyncio.sleep(1.5)  # GNU tail -F notices the new file within a second
        append(log, "FATAL: after rotation\n")
        async with asyncio.timeout(WAIT):
            while (await hub.expect("AGENT_EVENT"))["lines"] != ["FATAL: after rotation"]:
                pass
    assert os.path.exists(log)
