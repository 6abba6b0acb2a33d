"""A lab for the proactive bot: a real hub (with its embedded or shared chromadb), an agent.

The lab's CMDB is tests/test_hub_pipeline.py's (LAB with LABSYS and LABSTG, ZOO); every room
here is scoped, since a room without a scope runs nothing. The hub's health endpoint counts
what each line came to (`suggest.outcomes`), so a test can wait for the bot to have decided
before it says the bot stayed quiet.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import BIN, AgentProcess, ChatClient, Database, HubProcess, free_port
from test_hub_agents import wait_online
from test_hub_pipeline import CMDB, agent_config

#: rooms scoped to one system, one per test so cooldowns do not meet; and one institution room
SYSTEM_ROOMS = ("r-run", "r-cool", "r-talk", "r-dismiss", "r-again", "r-mute", "r-view", "r-fb")
INSTITUTION_ROOM = "r-lab"

#: symptoms the bot hears in the lab (written for these tests, none from an eval set)
DISK = "디스크가 꽉 찼다는 알람이 계속 와요"
DISK_AGAIN = "서버 디스크 용량이 거의 다 찼네요"
DB_SLOW = "요즘 배치 돌 때마다 쿼리가 오래 걸리네요"
DB_LOCK = "DB 락 대기 때문에 배치가 멈춘 것 같아요"
DOWN = "사이트가 먹통이에요 접속이 안 됩니다"
LOG_ERRORS = "로그에 exception이 계속 찍히고 있어요"
SMALL_TALK = ("점심 뭐 먹을까요?", "오늘 회의는 3시에 합니다", "thanks, see you tomorrow")


@dataclass
class ProactiveLab:
    db: Database
    hub: HubProcess
    agent: AgentProcess | None
    tokens: dict[str, str]

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop()
        self.hub.stop()


async def seed(db: Database) -> dict[str, str]:
    await db.import_cmdb(CMDB)
    for room in SYSTEM_ROOMS:
        await db.add_room(room, "LAB/LABSYS")
    await db.add_room(INSTITUTION_ROOM, "LAB")
    return {
        "oscar": await db.add_user("oscar", "operator:LAB"),
        "olive": await db.add_user("olive", "operator:LAB", "approver:LAB"),
        "vic": await db.add_user("vic", "viewer:LAB"),
        "root": await db.add_user("root", "admin"),
    }


async def start_proactive_lab(
    db: Database, workdir: Path, *, agent: bool = True, seeded: dict[str, str] | None = None,
    **env: str,
) -> ProactiveLab:  # fmt: skip
    tokens = seeded if seeded is not None else await seed(db)
    data = workdir / "hub"
    data.mkdir(parents=True, exist_ok=True)
    hub = HubProcess(db, data, **env)
    await hub.start()
    process = None
    if agent:
        token = await db.add_agent("lab-agent")
        process = AgentProcess(hub, "lab-agent", token, agent_config(hub, workdir, 0.1), workdir)
        process.start()
        try:
            await wait_online(hub, "lab-agent")
        except BaseException:
            process.stop()
            hub.stop()
            raise
    return ProactiveLab(db, hub, process, tokens)


async def suggest_health(hub: HubProcess) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        health: dict[str, Any] = (await client.get(hub.http + "/api/health")).json()["suggest"]
        return health


def settled(health: dict[str, Any]) -> int:
    return sum(health.get("outcomes", {}).values())


async def said(
    hub: HubProcess, client: ChatClient, room: str, text: str, timeout: float = 60.0
) -> str:
    """Say `text` in `room` and wait until the bot has decided about it; returns the outcome.

    Waits for the line's own CHAT first (it is stored before the bot reads it), then for the
    hub's count of decided lines to grow; the outcome is the reason counted for it.
    """
    before = (await suggest_health(hub)).get("outcomes", {})
    await client.send(msg_type="CHAT", room_id=room, content=text)
    await client.expect("CHAT", room_id=room, content=text)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = (await suggest_health(hub)).get("outcomes", {})
        grown = {k: v - before.get(k, 0) for k, v in now.items() if v > before.get(k, 0)}
        if grown:
            assert sum(grown.values()) == 1, grown  # one line at a time in these tests
            return next(iter(grown))
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot did not decide about {text!r} in {timeout} s")


async def suggestion(client: ChatClient, room: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next suggestion (a bot CHAT with buttons) in `room`."""
    return await client.expect(
        "CHAT", timeout=timeout, room_id=room, sender="GUARDiA-Bot", is_widget=True
    )


def button(frame: dict[str, Any], code: str) -> dict[str, Any]:
    [found] = [b for b in frame["interactive_actions"] if b["command_code"] == code]
    return found  # type: ignore[no-any-return]


async def press(client: ChatClient, room: str, action: dict[str, Any]) -> str:
    return await client.send(msg_type="ACTION", room_id=room, action_id=action["action_id"])


def bot_chats(client: ChatClient, room: str) -> list[dict[str, Any]]:
    return [
        f
        for f in client.seen
        if f["msg_type"] == "CHAT" and f.get("room_id") == room and f["sender"] == "GUARDiA-Bot"
    ]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on loopback, as several hubs share it (GUARDIA_CHROMA_URL)."""
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(path / "db"), "--port", str(port),
         "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(path / 'server.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
