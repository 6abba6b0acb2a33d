"""Alert storm: 1,000 Alertmanager webhooks in 10 s for 50 nodes against one hub.

What must hold (issue 11): at most one card per incident (50), every request answered
within its sender's timeout, and nothing lost: every alert counted in its incident's
`occurrences`. The load is open-loop (request k leaves at k * seconds / alerts whatever
the answers do), one alert per request, each node with its own fingerprint, over one
keep-alive client as Alertmanager would. A chat client in the room counts the ALERT
frames; the REST API gives the incidents' occurrences afterwards.

    python bench/alert_storm.py [--alerts 1000] [--seconds 10] [--nodes 50]
                                [--timeout 3] [--postgres postgresql+asyncpg://postgres@127.0.0.1/x]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PostgresDatabases,
    code_version,
    fmt,
    hub_server,
    import_cmdb,
    machine_notes,
    percentile,
    pin_cores,
    render_table,
    seed,
)

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "data" / "intake" / "alertmanager_firing.json"


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def storm_cmdb(nodes: int) -> str:
    rows = "".join(
        f"          - {{asset_code: STORM-WAS-{i:02d}, host: 10.50.0.{i}, layer: WAS, "
        f"env: prod, agent: storm-agent, services: [tomcat]}}\n"
        for i in range(1, nodes + 1)
    )
    return (
        "institutions:\n  - code: BENCH\n    name: 벤치\n    systems:\n"
        "      - code: STORM\n        name: 폭주시스템\n        nodes:\n"
        + rows
        + "agents:\n  - {id: storm-agent, institution: BENCH}\n"
    )


def alert_for(template: dict[str, Any], node: int) -> bytes:
    hook = copy.deepcopy(template)
    alert = hook["alerts"][0]
    alert["labels"]["instance"] = f"10.50.0.{node}:9100"
    alert["fingerprint"] = f"{node:016x}"
    hook["commonLabels"]["instance"] = alert["labels"]["instance"]
    return orjson.dumps(hook)


@dataclass
class Storm:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    late: int = 0


async def send_storm(
    url: str, token: str, alerts: int, seconds: float, nodes: int, timeout: float
) -> Storm:
    template = json.loads(FIXTURE.read_text())
    bodies = [alert_for(template, k % nodes + 1) for k in range(alerts)]
    storm = Storm()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers) as client:

        async def one(k: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            sent = time.monotonic()
            try:
                response = await client.post(url, content=bodies[k])
            except httpx.HTTPError as exc:
                storm.failures.append(type(exc).__name__)
                return
            took = time.monotonic() - sent
            storm.latencies.append(took * 1000)
            if took > timeout:
                storm.late += 1
            if response.status_code != 202:
                storm.failures.append(f"HTTP {response.status_code}")
                return
            status = response.json()["status"]
            storm.statuses[status] = storm.statuses.get(status, 0) + 1

        start = time.monotonic() + 0.2
        step = seconds / alerts
        await asyncio.gather(*(one(k, start + k * step) for k in range(alerts)))
    return storm


async def watch_cards(ws_url: str, token: str, room: str, frames: list[dict[str, Any]]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
        await ws.send(orjson.dumps({"v": 1, "msg_type": "JOIN", "room_id": room}).decode())
        async for raw in ws:
            frame = orjson.loads(raw)
            if frame["msg_type"] == "ALERT":
                frames.append(frame)


async def run(args: argparse.Namespace, url: str, work: Path) -> dict[str, str]:
    from cmdb import accounts
    from cmdb.integrations import add_integration

    await import_cmdb(url, storm_cmdb(args.nodes))
    await seed(url, lambda s: accounts.add_room(s, "storm", None, "BENCH/STORM"))
    admin = await seed(url, lambda s: accounts.add_user(s, "admin", ["admin"]))
    token = await seed(url, lambda s: add_integration(s, "am", "alertmanager"))
    hub = hub_server("hub", work, url, GUARDIA_INCIDENT_CARD_INTERVAL=str(args.interval))
    await hub.start(args.cores)
    frames: list[dict[str, Any]] = []
    base = f"http://127.0.0.1:{hub.port}"
    watcher = asyncio.ensure_future(
        watch_cards(f"ws://127.0.0.1:{hub.port}/ws/chat", admin, "storm", frames)
    )
    try:
        await asyncio.sleep(0.5)
        cpu_before = process_cpu_seconds(hub.pid)
        started = time.monotonic()
        storm = await send_storm(
            base + "/api/intake/alertmanager",
            token,
            args.alerts,
            args.seconds,
            args.nodes,
            args.timeout,
        )
        sent_for = time.monotonic() - started
        hub_cpu = process_cpu_seconds(hub.pid) - cpu_before
        await asyncio.sleep(args.interval + 3)  # the last cards catch up
        async with httpx.AsyncClient() as client:
            rows = (
                await client.get(
                    base + "/api/incidents?limit=500",
                    headers={"Authorization": f"Bearer {admin}"},
                )
            ).json()
    finally:
        watcher.cancel()
        hub.stop()
    counted = sum(r["occurrences"] for r in rows)
    answered = sum(storm.statuses.values())
    latest = {f["alert_id"]: f for f in frames}
    current = sum(
        1 for r in rows if latest.get(r["alert_id"], {}).get("occurrences") == r["occurrences"]
    )
    ordered = sorted(storm.latencies)
    return {
        "alerts": str(args.alerts),
        "sent in s": fmt(sent_for),
        "answered 202": str(answered),
        f"over {args.timeout:g} s": str(storm.late + len(storm.failures)),
        "p50 ms": fmt(percentile(ordered, 0.5)),
        "p99 ms": fmt(percentile(ordered, 0.99)),
        "max ms": fmt(ordered[-1] if ordered else float("nan")),
        "hub CPU ms/alert": fmt(hub_cpu * 1000 / args.alerts, 2),
        "incidents": str(len(rows)),
        "cards": str(len(latest)),
        "ALERT frames": str(len(frames)),
        "cards current": f"{current}/{len(rows)}",
        "occurrences": str(counted),
        "lost": str(args.alerts - counted),
        "errors": str(len(storm.failures)),
    }


async def main_async(args: argparse.Namespace) -> int:
    args.cores = pin_cores(not args.no_pin)
    version = code_version()
    print(f"alert storm: {machine_notes(args.cores)}")
    postgres = PostgresDatabases(args.postgres) if args.postgres else None
    with tempfile.TemporaryDirectory(prefix="guardia-storm-") as tmp:
        work = Path(tmp)
        try:
            url = (
                await postgres.create()
                if postgres is not None
                else f"sqlite+aiosqlite:///{work / 'hub.db'}"
            )
            result = await run(args, url, work)
        finally:
            if postgres is not None:
                await postgres.drop_all()
    database = "PostgreSQL" if postgres is not None else "SQLite"
    print()
    print(
        f"alert storm ({database}): {args.alerts} alerts in {args.seconds:g} s for "
        f"{args.nodes} nodes, card interval {args.interval:g} s, sender timeout "
        f"{args.timeout:g} s ({time.strftime('%Y-%m-%d %H:%M')})"
    )
    print(f"code: {version}")
    print(render_table(list(result), [list(result.values())]))
    ok = (
        result["lost"] == "0"
        and int(result["cards"]) <= args.nodes
        and result[f"over {args.timeout:g} s"] == "0"
    )
    print("\nholds" if ok else "\nDOES NOT HOLD: cards, answers in time, or lost alerts")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--alerts", type=int, default=1000)
    options.add_argument("--seconds", type=float, default=10.0)
    options.add_argument("--nodes", type=int, default=50)
    options.add_argument("--timeout", type=float, default=3.0, help="the sender's timeout, s")
    options.add_argument("--interval", type=float, default=3.0, help="card interval, s")
    options.add_argument("--postgres", metavar="URL", help="run the hub on PostgreSQL")
    options.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    return asyncio.run(main_async(options.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
