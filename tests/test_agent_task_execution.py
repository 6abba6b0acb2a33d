"""Scheduling inside one task, and results that must fit one frame."""

from __future__ import annotations

import asyncio

from agent.task_execution import FRAME_OUTPUT_BUDGET, NodeGate, fit_to_frame, tail_bytes
from protocol import TaskFinished, TaskResult, encode


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
