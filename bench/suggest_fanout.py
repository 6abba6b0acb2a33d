"""The proactive bot's cost in a hub: chat fan-out with the bot off and on, time per suggestion.

Run by `bench/suggest_eval.py --fanout` (same invocation as the accuracy eval):
1. fan-out (bench/fanout.py's machinery: one sender, rooms of 10 and 100 members, stepped
   rates, then "max") against two hubs up at once, one with GUARDIA_SUGGEST=off and one
   with it on, measured in turn run by run (off, on, then on, off: what else the machine
   does falls on both); everything else the same: SQLite, a CMDB, rooms scoped to a system
   (a room without a scope is never analysed, which would flatter the bot), and every
   message carrying an ordinary ops chat line after its timing mark, one line in 50 a
   symptom (one of each kind in a cycle of 200). Target: max deliveries/s with the bot on
   >= 0.9 x off, per room size.
2. time per suggestion in the hub: a hub with a cooldown of 1 ms, 8 rooms, a stream of
   symptom lines, each waited for; the hub's own figure (embedding + chromadb query, from
   /api/health's model_ms_*) and the line-to-suggestion time a member sees.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from _common import (
    ServerProcess,
    add_user,
    hub_server,
    import_cmdb,
    machine_notes,
    pin_cores,
    seed,
)
from fanout import (
    MAX_ATTEMPTS,
    MIN_MESSAGES,
    STEPS,
    Room,
    Summary,
    Target,
    _progress,
    close_room,
    measure,
    open_room,
    ratio_table,
    results_table,
)

OFF, ON, TIMING = "GUARDiA bot off", "GUARDiA bot on", "GUARDiA bot timing"
MIN_RATIO = 0.9
TIMING_ROOMS = 8
SCOPE = "BENCH/BENCHSYS"
CMDB = """\
institutions:
  - code: BENCH
    name: 벤치기관
    systems:
      - code: BENCHSYS
        name: 벤치시스템
        nodes:
          - {asset_code: BENCH-WAS-01, host: 127.0.0.1, layer: WAS, env: prod,
             agent: bench-agent, services: [app]}
          - {asset_code: BENCH-DB-01, host: 127.0.0.1, layer: DB, env: prod,
             agent: bench-agent, services: [db]}
agents:
  - {id: bench-agent, institution: BENCH}
"""
#: ordinary chat of an operations room (none of it a symptom), written for this bench
ORDINARY = (
    "배포 끝났습니다 확인 부탁드려요",
    "오늘 점심은 어디로 갈까요",
    "회의록 공유드렸습니다",
    "네 확인했습니다",
    "the release notes are in the wiki",
    "내일 오전에 정기 점검 일정 있습니다",
    "고객사에서 보고서 요청이 왔어요",
    "thanks, looks good to me",
    "담당자분께 메일 보내 두었습니다",
    "이번 주 당직은 누구죠?",
)
SYMPTOMS = (
    "디스크가 꽉 찼다는 알람이 또 왔어요",
    "쿼리가 너무 느려서 화면이 안 떠요",
    "사이트가 먹통이에요 접속이 안 됩니다",
    "로그에 exception이 계속 찍히고 있어요",
)


def chat_cycle() -> tuple[str, ...]:
    """200 lines: ordinary chat, with one symptom every 50 lines (each kind once)."""
    lines = [ORDINARY[i % len(ORDINARY)] for i in range(200)]
    for k, symptom in enumerate(SYMPTOMS):
        lines[25 + 50 * k] = symptom
    return tuple(lines)


async def _seed(url: str, rooms: list[str]) -> str:
    from cmdb import accounts

    await import_cmdb(url, CMDB)

    async def work(session: Any) -> None:
        for room_id in rooms:
            await accounts.add_room(session, room_id, None, SCOPE)

    await seed(url, work)
    return await add_user(url, "bench", "operator")


async def _suggest_health(server: ServerProcess) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        got = await client.get(f"http://127.0.0.1:{server.port}/api/health")
        health: dict[str, Any] = got.json()["suggest"]
        return health


async def _paired(
    rooms: dict[str, Room], size: int, step: str, rate: float | None, seconds: float,
    runs: int, retry_until: float,
) -> list[Summary]:  # fmt: skip
    """`runs` clean runs of each hub, alternating (off, on, then on, off, ...): whatever else
    the machine does meanwhile falls on both. A contended pair is repeated, as fanout.py
    repeats a contended run."""
    summaries = {name: Summary(name, size, step, []) for name in rooms}
    for attempt in range(runs * MAX_ATTEMPTS):
        order = list(rooms) if attempt % 2 == 0 else list(reversed(rooms))
        for name in order:
            summaries[name].runs.append(await measure(rooms[name], step, rate, seconds))
        clean = min(sum(not r.contended for r in s.runs) for s in summaries.values())
        if clean >= runs or (attempt + 1 >= runs and time.monotonic() > retry_until):
            break
    for summary in summaries.values():
        print(_progress(summary))
    return list(summaries.values())


async def fanout(
    work: Path, sizes: list[int], runs: int, seconds: float, retry_budget: float
) -> tuple[list[Any], dict[str, Any], Any]:
    """Both hubs up at once (the idle one costs nothing), measured in turn, step by step."""
    cores = pin_cores(True)
    limits = {"GUARDIA_RATE_PER_SECOND": "1e9", "GUARDIA_RATE_BURST": "1e9"}
    retry_until = time.monotonic() + retry_budget
    targets: dict[str, Target] = {}
    for name, switch in ((OFF, "off"), (ON, "on")):
        url = f"sqlite+aiosqlite:///{work / (switch + '.db')}"
        token = await _seed(url, [f"fan{n}" for n in sizes])
        server = hub_server(name, work, url, GUARDIA_SUGGEST=switch, **limits)
        targets[name] = Target(
            name, server, token=token, joins=True, hub_frame=True, chat=chat_cycle()
        )
    summaries: list[Summary] = []
    bot_health: dict[str, Any] = {}
    try:
        for target in targets.values():
            await target.server.start(cores)
            print(f"{target.name}: pid {target.server.pid}")
        for size in sizes:
            rooms = {name: await open_room(t, f"fan{size}", size) for name, t in targets.items()}
            try:
                for room in rooms.values():
                    await measure(room, "warm-up", 1000.0 / size, 0.3)
                for deliveries in STEPS:
                    rate = deliveries / size
                    secs = max(seconds, MIN_MESSAGES / rate)
                    summaries += await _paired(
                        rooms, size, f"{deliveries // 1000}k/s", rate, secs, runs, retry_until
                    )
                summaries += await _paired(rooms, size, "max", None, seconds, runs, retry_until)
            finally:
                for room in rooms.values():
                    await close_room(room)
        bot_health = await _suggest_health(targets[ON].server)
    finally:
        for target in targets.values():
            target.server.stop()
    return summaries, bot_health, cores


async def _suggestion(ws: Any, room: str, timeout: float) -> bool:
    """Whether the bot's suggestion came to `room` within `timeout` (else it kept quiet)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = orjson.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            return False
        bot = frame.get("sender") == "GUARDiA-Bot"
        if bot and frame.get("room_id") == room and frame.get("is_widget"):
            return True
    return False


def _frame(**fields: Any) -> str:
    return orjson.dumps({"v": 1, **fields}).decode()


async def timing(work: Path, lines: int) -> dict[str, Any]:
    """Symptom after symptom in one room of a hub with a 1 ms cooldown, each waited for."""
    url = f"sqlite+aiosqlite:///{work / 'timing.db'}"
    # lines go round several rooms: one room's lines are read at 5/s (hub/bot/line_budget.py)
    rooms = [f"timing{n}" for n in range(TIMING_ROOMS)]
    token = await _seed(url, rooms)
    server = hub_server(TIMING, work, url, GUARDIA_SUGGEST_COOLDOWN="0.001")
    await server.start(None)
    seen_ms: list[float] = []
    try:
        headers = {"Authorization": f"Bearer {token}"}
        async with websockets.connect(
            f"ws://127.0.0.1:{server.port}/ws/chat", additional_headers=headers
        ) as ws:
            for room in rooms:
                await ws.send(_frame(msg_type="JOIN", room_id=room))
            for i in range(lines + 1):  # the first opens the store: not timed
                room = rooms[i % len(rooms)]
                text = SYMPTOMS[i % len(SYMPTOMS)]
                sent = time.perf_counter()
                await ws.send(_frame(msg_type="CHAT", room_id=room, content=text))
                if await _suggestion(ws, room, 30.0 if i == 0 else 10.0) and i:
                    seen_ms.append((time.perf_counter() - sent) * 1000)
        health = await _suggest_health(server)
    finally:
        server.stop()
    ordered = sorted(seen_ms) or [float("nan")]
    return {
        "lines": len(seen_ms),
        "sent": lines,
        "model_ms_p50": health.get("model_ms_p50"),
        "model_ms_p99": health.get("model_ms_p99"),
        "seen_ms_p50": statistics.median(ordered),
        "seen_ms_p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "outcomes": health.get("outcomes"),
    }


def report(
    summaries: list[Any], bot: dict[str, Any], timed: dict[str, Any], sizes: list[int], cores: Any
) -> bool:
    """Print the tables; True when the bot-on hub kept >= MIN_RATIO of the off hub's max."""
    print(f"\nfan-out with the proactive bot off and on ({time.strftime('%Y-%m-%d %H:%M')})")
    print(f"machine: {machine_notes(cores)}")
    for size in sizes:
        print(f"\n{size} members")
        print(results_table(summaries, size))
    print("\nratios (on / off)")
    print(ratio_table(summaries, sizes, [(ON, OFF)]))
    index = {(s.target, s.members, s.step): s for s in summaries}
    met = True
    for size in sizes:
        on, off = index.get((ON, size, "max")), index.get((OFF, size, "max"))
        if on is None or off is None:
            met = False
            continue
        share = on.pick("deliveries_per_s") / off.pick("deliveries_per_s")
        ok = share >= MIN_RATIO
        met &= ok
        print(f"{size} members: max deliveries/s on/off {share:.2f} ({'met' if ok else 'MISSED'})")
    print(
        f"the bot-on hub during fan-out: {bot.get('analyzed', 0)} lines reached the model "
        f"(p50 {bot.get('model_ms_p50', '-')} ms, p99 {bot.get('model_ms_p99', '-')} ms), "
        f"{bot.get('skipped_busy', 0)} skipped as busy; outcomes {bot.get('outcomes', {})}"
    )
    print(
        f"\ntime per suggestion in the hub ({timed['lines']} of {timed['sent']} symptom lines "
        f"suggested, one at a time; outcomes {timed['outcomes']}): "
        f"embedding + query p50 {timed['model_ms_p50']} ms, p99 {timed['model_ms_p99']} ms; "
        f"line to suggestion as a member sees it p50 {timed['seen_ms_p50']:.1f} ms, "
        f"p99 {timed['seen_ms_p99']:.1f} ms"
    )
    return met
