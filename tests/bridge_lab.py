"""The pipeline's lab (CMDB, users, a real agent, a real hub) with bridges switched on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Any

import httpx
from harness import BIN, Database, HubProcess

from hub.bridges import links

POLL = "0.2"


def guardia(db: Database, *args: str) -> str:
    """The operator's CLI against the lab's database."""
    done = subprocess.run(
        [str(BIN / "guardia"), *args],
        env={**os.environ, "GUARDIA_DATABASE_URL": db.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def link_users(db: Database, bridge: str, accounts: dict[str, str]) -> None:
    """user name -> account id on the bridge (what `guardia user link` writes)."""
    for name, account in accounts.items():
        await db._run(lambda s, n=name, a=account: links.link_user(s, n, bridge, a))


async def room_frames(hub: HubProcess, token: str, room: str = "lab") -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{hub.http}/api/rooms/{room}/messages?limit=1000",
            headers={"Authorization": f"Bearer {token}"},
        )
    answer.raise_for_status()
    frames: list[dict[str, Any]] = answer.json()
    return frames


async def eventually(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not so within {timeout} s")
