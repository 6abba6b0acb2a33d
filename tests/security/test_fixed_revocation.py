"""17.4: revocation and rotation from the CLI reach open sockets; tokens may expire."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import websockets
from harness import BIN, Database, HubProcess, chat_client
from test_hub_agents import wait_online
from test_hub_pipeline import running_lab


def guardia(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GUARDIA_DATABASE_URL": db.url}
    return subprocess.run([str(BIN / "guardia"), *args], env=env, capture_output=True, text=True)


async def closed_with(ws: websockets.ClientConnection, timeout: float = 10) -> int | None:
    """Read until the hub closes the socket; its close code."""
    try:
        async with asyncio.timeout(timeout):
            async for _ in ws:
                pass
    except TimeoutError:
        return None
    except websockets.ConnectionClosed:
        pass
    return ws.close_code


async def test_a_revoked_user_is_cut_off_on_every_open_socket(hub: HubProcess) -> None:
    token = await hub.db.add_user("mallory", "operator")
    await hub.db.add_room("ops")
    async with chat_client(hub, token) as first, chat_client(hub, token) as second:
        await first.join("ops")
        done = guardia(hub.db, "user", "revoke", "mallory")
        assert done.returncode == 0, done.stderr
        assert await closed_with(first.ws) == 4401
        assert await closed_with(second.ws) == 4401
    async with websockets.connect(
        hub.ws + "/ws/chat", additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        assert await closed_with(ws) == 4401


async def test_rotation_ends_old_sessions_and_the_new_token_works(hub: HubProcess) -> None:
    old = await hub.db.add_user("rita", "operator")
    await hub.db.add_room("ops")
    async with chat_client(hub, old) as client:
        await client.join("ops")
        done = guardia(hub.db, "user", "rotate", "rita")
        assert done.returncode == 0, done.stderr
        new = done.stdout.strip().splitlines()[-1]
        assert await closed_with(client.ws) == 4401
    async with chat_client(hub, new) as client:
        assert (await client.join("ops"))["room_id"] == "ops"


async def test_a_token_with_a_lifetime_stops_working_and_closes_its_socket(
    hub: HubProcess,
) -> None:
    done = guardia(hub.db, "user", "add", "tim", "--role", "viewer", "--expires", "3s")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    await hub.db.add_room("ops")
    async with chat_client(hub, token) as client:
        await client.join("ops")
        assert await closed_with(client.ws, timeout=15) == 4401
    bad = guardia(hub.db, "user", "add", "tom", "--expires", "soon")
    assert bad.returncode != 0 and "--expires" in bad.stderr


async def test_a_revoked_agent_is_disconnected_and_stops(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path) as lab:
        await wait_online(lab.hub, "lab-agent")
        done = guardia(sqlite_db, "agent", "revoke", "lab-agent")
        assert done.returncode == 0, done.stderr
        assert lab.agent.proc is not None
        code = await asyncio.to_thread(lab.agent.proc.wait, 20)
        assert code == 2, lab.agent.log()[-2000:]
