"""The agent's own metrics and logs (issue 14), from the real process against the fake hub.

Scrapes `--metrics-port` with a real HTTP client, parses the exposition with
prometheus_client's own parser, and checks each counter moved by exactly what happened; reads
the JSON log lines and checks every line about a task carries its task_id, and that the
token (debug level included) appears nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

import httpx
import pytest
from harness import free_port
from prometheus_client.parser import text_string_to_metric_families
from test_agent_link import (
    AGENT_ID,
    TOKEN,
    WAIT,
    FakeHub,
    finish,
    log_records,
    start_agent,
    step,
    task,
    write_config,
)

from protocol import Ack

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def wait_for_value(port: int, name: str, expected: float, **labels: str) -> Samples:
    async with asyncio.timeout(WAIT):
        while value(samples := await scrape(port), name, **labels) != expected:
            await asyncio.sleep(0.05)
    return samples


@pytest.mark.slow
async def test_metrics_move_by_exactly_what_happened_and_logs_carry_task_ids(
    tmp_path: Any,
) -> None:
    hub = FakeHub()
    await hub.start()
    port = free_port()
    process = await start_agent(
        hub, write_config(tmp_path), "--metrics-port", str(port), "--log-level", "debug"
    )
    try:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        before = await wait_for_value(port, "guardia_agent_link_up", 1)
        disk = {"action": "CHECK_DISK_SPACE"}
        assert value(before, "guardia_agent_tasks_total", **disk, outcome="succeeded") == 0
        assert value(before, "guardia_agent_reconnects_total") == 0
        assert value(before, "guardia_agent_outbox_results") == 0

        await hub.send(task("t-metrics", step("CHECK_DISK_SPACE", warn_percent=100)))
        assert (await hub.expect("TASK_FINISHED", "t-metrics"))["status"] == "SUCCEEDED"
        after = await scrape(port)
        assert value(after, "guardia_agent_tasks_total", **disk, outcome="succeeded") == 1
        assert value(after, "guardia_agent_step_duration_seconds_count", **disk) == 1
        assert value(after, "guardia_agent_step_duration_seconds_sum", **disk) >= 0
        assert value(after, "guardia_agent_outbox_results") == 1
        assert sum(v for (name, _), v in after.items() if name == "guardia_agent_tasks_total") == 1

        await hub.send(Ack(task_id="t-metrics"))
        await wait_for_value(port, "guardia_agent_outbox_results", 0)

        expired = task("t-late", step("RESTART_SERVICE", service="app"), deadline_in=-1)
        await hub.send(expired)
        await hub.expect("TASK_FINISHED", "t-late")
        refused = await scrape(port)
        restart = {"action": "RESTART_SERVICE"}
        assert value(refused, "guardia_agent_tasks_total", **restart, outcome="refused") == 1
        assert value(refused, "guardia_agent_step_duration_seconds_count", **restart) == 0

        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            missing = await client.get(f"http://127.0.0.1:{port}/other")
            posted = await client.post(f"http://127.0.0.1:{port}/metrics")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "link": "READY"}
        assert (missing.status_code, posted.status_code) == (404, 405)

        hub_port = hub.port
        await hub.stop()
        await wait_for_value(port, "guardia_agent_link_up", 0)
        await hub.start(hub_port)
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        back = await wait_for_value(port, "guardia_agent_link_up", 1)
        assert value(back, "guardia_agent_reconnects_total") >= 1
        reconnects = value(back, "guardia_agent_reconnects_total")
        await asyncio.sleep(0.5)
        assert value(await scrape(port), "guardia_agent_reconnects_total") == reconnects

        process.send_signal(signal.SIGTERM)
        returncode, output = await finish(process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await hub.stop()
    assert returncode == 0, output
    assert TOKEN not in output
    records = log_records(output)
    assert records and all(r["agent_id"] == AGENT_ID for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    about = [r for r in records if "t-metrics" in r["message"]]
    assert len(about) >= 2, output  # started, finished
    assert all(r.get("task_id") == "t-metrics" for r in about)
    late = [r for r in records if "t-late" in r["message"]]
    assert late and all(r.get("task_id") == "t-late" for r in late)
    assert any(r.get("task_id") is None for r in records)  # lines about no task have none


@pytest.mark.slow
async def test_text_logs_on_request_and_a_bad_format_is_refused(tmp_path: Any) -> None:
    hub = FakeHub()
    await hub.start()
    try:
        bad = await start_agent(hub, write_config(tmp_path), env={"GUARDIA_LOG_FORMAT": "xml"})
        returncode, output = await finish(bad)
        assert returncode == 2
        assert "GUARDIA_LOG_FORMAT='xml': use one of json, text" in output

        process = await start_agent(hub, write_config(tmp_path), env={"GUARDIA_LOG_FORMAT": "text"})
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        await hub.send(task("t-text", step("SERVICE_STATUS", service="app")))
        await hub.expect("TASK_FINISHED", "t-text")
        process.send_signal(signal.SIGTERM)
        returncode, output = await finish(process)
    finally:
        await hub.stop()
    assert returncode == 0, output
    assert log_records(output) == []
    started = [line for line in output.splitlines() if "task t-text started" in line]
    assert len(started) == 1 and started[0].endswith("[task_id=t-text]")
    assert " INFO guardia.agent.tasks: task t-text started" in started[0]
