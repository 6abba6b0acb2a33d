"""The intake tests' lab: a CMDB with two institutions, rooms at three scopes, integrations
of each kind, users with different rights, and helpers to post alerts and read cards."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from harness import ChatClient, Database, HubProcess

from cmdb.integrations import add_integration

DATA = Path(__file__).parent / "data" / "intake"
SECRET = "grafana-and-sentry-share-nothing-but-this-test"

CMDB = """\
institutions:
  - code: MOF
    name: 기획재정부
    systems:
      - code: BUDGET
        name: 예산시스템
        nodes:
          - {asset_code: MOF-WAS-01, host: 10.10.1.11, layer: WAS, env: prod, agent: mof-agent, services: [tomcat]}
          - {asset_code: MOF-DB-01, host: 10.10.1.31, layer: DB, env: prod, agent: mof-agent, services: [postgresql]}
          - {asset_code: MOF-WAS-09, host: 10.10.9.11, layer: WAS, env: dev, agent: mof-agent, services: [tomcat]}
  - code: MOLIT
    name: 국토교통부
    systems:
      - code: KTX
        name: 철도예약
        nodes:
          - {asset_code: MOLIT-WAS-01, host: 10.20.1.11, layer: WAS, env: prod, agent: molit-agent, services: [tomcat]}
agents:
  - {id: mof-agent, institution: MOF}
  - {id: molit-agent, institution: MOLIT}
"""
#: integrations of the lab: name -> (kind, room, secret)
INTEGRATIONS: dict[str, tuple[str, str | None, str | None]] = {
    "am": ("alertmanager", None, None),
    "am-ops": ("alertmanager", "ops", None),  # its MOF alerts go to the ops room
    "graf": ("grafana", None, SECRET),
    "snt": ("sentry", "budget", SECRET),
    "app": ("event", None, None),
}


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def fixture_json(name: str) -> Any:
    return orjson.loads(fixture(name))


@dataclass
class IntakeLab:
    hub: HubProcess
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    async def post(
        self,
        path: str,
        body: bytes | dict[str, Any],
        integration: str | None = "am",
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        hub: HubProcess | None = None,
    ) -> httpx.Response:
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if integration is not None:
            sent["Authorization"] = f"Bearer {self.tokens[integration]}"
        async with httpx.AsyncClient(timeout=timeout) as client:
            url = (hub or self.hub).http + path
            return await client.post(url, content=data, headers=sent)

    async def get(self, path: str, user: str = "admin") -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(
                self.hub.http + path, headers={"Authorization": f"Bearer {self.users[user]}"}
            )

    async def incidents(self, user: str = "admin", **query: str) -> list[dict[str, Any]]:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        response = await self.get("/api/incidents" + (f"?{params}" if params else ""), user)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        return rows


async def seed_lab(db: Database) -> IntakeLab:
    """CMDB, rooms, users and integrations (no hub yet)."""
    await db.import_cmdb(CMDB)
    await db.add_room("budget", "MOF/BUDGET")
    await db.add_room("mof", "MOF")
    await db.add_room("ops", "MOF")  # the ministry's operations room (am-ops's)
    await db.add_room("molit", "MOLIT/KTX")
    await db.add_room("lobby")  # unscoped: a node's card never goes here
    lab = IntakeLab(hub=None)  # type: ignore[arg-type]
    for name, (kind, room, secret) in INTEGRATIONS.items():
        lab.tokens[name] = await db._run(
            lambda s, n=name, k=kind, r=room, c=secret: add_integration(
                s, n, k, room_id=r, secret=c
            )
        )
    lab.users["admin"] = await db.add_user("admin", "admin")
    lab.users["alice"] = await db.add_user("alice", "operator:MOF")
    lab.users["bob"] = await db.add_user("bob", "approver:MOF")
    lab.users["victor"] = await db.add_user("victor", "viewer:MOF")
    lab.users["molly"] = await db.add_user("molly", "operator:MOLIT")
    return lab


async def until(predicate: Any, timeout: float = 10.0, every: float = 0.05) -> Any:
    """Poll an async predicate until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate}")
        await asyncio.sleep(every)


async def alerts(client: ChatClient, settle: float) -> list[dict[str, Any]]:
    """Every ALERT the client receives until `settle` seconds pass without one."""
    seen: list[dict[str, Any]] = []
    while True:
        try:
            frame = await client.recv(settle)
        except TimeoutError:
            return seen
        if frame["msg_type"] == "ALERT":
            seen.append(frame)


#: quick settings for tests: a 2 s dedup window, cards every 0.5 s
FAST = {"GUARDIA_INCIDENT_DEDUP_WINDOW": "2", "GUARDIA_INCIDENT_CARD_INTERVAL": "0.5"}


@contextlib.asynccontextmanager
async def running_lab(db: Database, tmp: Path, **env: str) -> AsyncIterator[IntakeLab]:
    """The seeded lab with its hub running (FAST settings unless overridden)."""
    lab = await seed_lab(db)
    data = tmp / "hub"
    data.mkdir(exist_ok=True)
    lab.hub = HubProcess(db, data, **{**FAST, **env})
    await lab.hub.start()
    try:
        yield lab
    finally:
        lab.hub.stop()
