"""The outbox: a real SQLite file, across reopenings, bounded."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from agent.exceptions import OutboxError
from agent.outbox import Outbox
from protocol import TaskFinished, TaskResult


def finished(task_id: str, status: str = "SUCCEEDED") -> TaskFinished:
    result = TaskResult(
        node="WEB-01", action="SERVICE_STATUS", ok=status == "SUCCEEDED", exit_code=0,
        summary="app: active", output_tail="active\n", duration_ms=12,
    )  # fmt: skip
    return TaskFinished(task_id=task_id, status=status, results=[result], content="done")


async def test_a_task_goes_running_finished_acked(tmp_path: Path) -> None:
    outbox = await Outbox.open(tmp_path / "o.sqlite")
    try:
        await outbox.begin("t1", [("SERVICE_STATUS", "WEB-01")])
        entry = await outbox.lookup("t1")
        assert entry is not None and entry.state == "running" and entry.result is None
        assert entry.steps == [("SERVICE_STATUS", "WEB-01")]
        with pytest.raises(OutboxError, match="already in the outbox"):
            await outbox.begin("t1", [])

        await outbox.finish(finished("t1"))
        entry = await outbox.lookup("t1")
        assert entry is not None and entry.state == "finished"
        assert entry.result is not None
        assert entry.result.results == finished("t1").results
        assert entry.result.content == "done"
        assert [r.task_id for r in await outbox.unacknowledged()] == ["t1"]

        assert await outbox.ack("t1") is True
        assert await outbox.ack("t1") is False
        assert await outbox.ack("never-seen") is False
        entry = await outbox.lookup("t1")
        assert entry is not None and entry.state == "acked" and entry.result is None
        assert await outbox.unacknowledged() == []
    finally:
        await outbox.close()


async def test_results_and_running_tasks_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "o.sqlite"
    outbox = await Outbox.open(path)
    await outbox.finish(finished("done-1"))
    await outbox.begin("cut-short", [("RESTART_SERVICE", "WAS-01"), ("HEALTH_CHECK", "WAS-01")])
    await outbox.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    outbox = await Outbox.open(path)
    try:
        assert [r.task_id for r in await outbox.unacknowledged()] == ["done-1"]
        (interrupted,) = await outbox.interrupted()
        assert interrupted.task_id == "cut-short"
        assert interrupted.steps == [("RESTART_SERVICE", "WAS-01"), ("HEALTH_CHECK", "WAS-01")]
    finally:
        await outbox.close()


async def test_the_file_is_bounded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outbox = await Outbox.open(tmp_path / "o.sqlite", max_results=10)
    try:
        for n in range(12):
            await outbox.finish(finished(f"t{n}"))
        pending = [r.task_id for r in await outbox.unacknowledged()]
        assert pending == [f"t{n}" for n in range(2, 12)]
        assert "dropped the result of task t0" in caplog.text

        for n in range(2, 12):
            await outbox.ack(f"t{n}")
        for n in range(12, 112):
            await outbox.finish(finished(f"t{n}"))
            await outbox.ack(f"t{n}")
        # acknowledged ids are kept (10 x max_results) so late duplicates are recognised
        assert await outbox.lookup("t111") is not None
        assert await outbox.lookup("t2") is None
    finally:
        await outbox.close()


async def test_a_file_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(OutboxError, match="schema version 7"):
        await Outbox.open(path)


async def test_an_unwritable_place_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        await Outbox.open(blocker / "o.sqlite")
