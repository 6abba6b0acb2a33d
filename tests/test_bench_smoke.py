"""The idle and storm benches, run small so that they do not rot (bench/README.md).

They start real hubs, B1 and client processes on loopback; the figures are not checked,
only that each bench finishes and says its connections were held and its tasks were run
exactly once (the benches' own exit codes say so too).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.long]


def run_bench(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / name), "--no-pin", *args],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def table_row(output: str, first_cell: str) -> list[str]:
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row {first_cell!r} in:\n{output}")


def test_idle_bench_holds_its_agents_and_b1_sockets() -> None:
    out = run_bench("idle.py", "--agents", "50", "--procs", "2", "--heartbeat", "1", "--hold", "2")
    for server in ("GUARDiA", "B1"):
        row = table_row(out, server)
        assert row[1:4] == ["50", "50", "50"], row  # agents, held after ramp, after hold
        assert int(row[9].replace(",", "")) >= 50, row  # every link's heartbeat answered
    assert "GUARDiA / B1: RSS per connection" in out


def test_storm_bench_brings_every_agent_back_and_runs_each_task_once() -> None:
    out = run_bench("storm.py", "--agents", "50", "--tasks", "20", "--procs", "2", "--down", "0")
    assert "0 lost (0), 0 twice (0): held" in out, out
    row = table_row(out, "50")
    assert row[1] == "20" and row[8] == "50", row  # tasks, agents back
