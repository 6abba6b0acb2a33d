"""Scheduling inside one task, and results that must fit one frame."""

from __future__ import annotations

import asyncio

from agent.task_execution import (
    FRAME_DATA_BUDGET,
    FRAME_OUTPUT_BUDGET,
    NodeGate,
    data_size,
    fit_to_frame,
    shrink_data,
    tail_bytes,
)
from protocol import TaskFinished, TaskResult, decode, encode


async def test_one_step_per_node_and_a_global_bound() -> None:
    gate = NodeGate(max_concurrency=2)
    inside: dict[str, int] = {}
    peak = {"total": 0, "per_node": 0}
    release = asyncio.Event()

    async def step(node: str) -> None:
        async with gate.hold(node):
            inside[node] = inside.get(node, 0) + 1
            peak["per_node"] = max(peak["per_node"], inside[node])
            peak["total"] = max(peak["total"], sum(inside.values()))
            await release.wait()
            inside[node] -= 1

    tasks = [asyncio.create_task(step(node)) for node in ("A", "A", "B", "C", "C")]
    for _ in range(5):  # let every task reach the gate
        await asyncio.sleep(0)
    assert sum(inside.values()) == 2
    release.set()
    await asyncio.gather(*tasks)
    assert peak == {"total": 2, "per_node": 1}


def test_tails_are_cut_on_character_boundaries() -> None:
    text = "가나다라마"  # 3 bytes each in UTF-8
    assert tail_bytes(text, 7) == "라마"
    assert tail_bytes(text, 100) == text


def test_many_large_outputs_still_fit_one_frame() -> None:
    results = [
        TaskResult(node=f"N{i}", action="TAIL_LOG", ok=True, output_tail="로그" * 40_000)
        for i in range(20)
    ]
    fitted = fit_to_frame(results)
    assert sum(len(r.output_tail.encode()) for r in fitted) <= FRAME_OUTPUT_BUDGET
    frame = encode(TaskFinished(task_id="t", status="SUCCEEDED", results=fitted))
    assert len(frame.encode()) < 1024 * 1024
    assert fit_to_frame(results[:1]) == results[:1]


def test_much_result_data_is_shortened_to_fit_one_frame() -> None:
    wait = {column: "x" * 200 for column in ("blocked_query", "blocking_query")}
    waits = [{**wait, "blocked_pid": str(n), "wait_seconds": n} for n in range(100)]
    results = [
        TaskResult(node=f"DB-{i}", action="FETCH_DB_LOCKS", ok=True, output_tail="t" * 60_000,
                   data={"kind": "postgresql", "waits": waits})
        for i in range(30)
    ]  # fmt: skip
    small = TaskResult(node="DB-X", action="SERVICE_STATUS", ok=True,
                       data={"service": "pg", "state": "active", "healthy": True})  # fmt: skip
    fitted = fit_to_frame([*results, small])
    assert sum(data_size(r.data) for r in fitted) <= FRAME_DATA_BUDGET
    first = fitted[0].data
    assert first is not None and first["truncated"] is True and first["kind"] == "postgresql"
    assert 0 < len(first["waits"]) < 100 and first["waits"] == waits[: len(first["waits"])]
    assert fitted[-1] == small  # a small one is left alone
    frame = encode(TaskFinished(task_id="t", status="SUCCEEDED", results=fitted))
    assert len(frame.encode()) < 1024 * 1024
    again = decode(frame)
    assert isinstance(again, TaskFinished) and again.results == fitted


def test_data_without_a_list_to_shorten_is_dropped() -> None:
    assert shrink_data({"service": "x" * 500}, 100) is None
    assert shrink_data({"service": "x"}, 100) == {"service": "x"}
    assert shrink_data(None, 100) is None
