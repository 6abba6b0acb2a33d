"""The SQLite disk full (a 4 MiB tmpfs holding the database and the data directory).

Senders hear that their messages could not be stored, an upload gets a 5xx with a message
saying why, the hub stays up and keeps serving reads, the database is not corrupted, and
once space is freed everything works again with no gap in the seqs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
from harness import ChatClient, Database, HubProcess, chat_client

from faults.fault_services import SmallDisk

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.long]

BODY = "가" * 5000  # 15 KB of UTF-8 per message: the WAL must grow to take them


async def send_until_refused(client: ChatClient, limit: int = 400) -> dict[str, str]:
    """Send until the hub refuses one; returns message_id -> error message of the refused."""
    refused: dict[str, str] = {}
    sent: set[str] = set()
    for i in range(limit):
        sent.add(await client.send(msg_type="CHAT", room_id="lab", content=f"{i} {BODY}"))
        while True:
            try:
                frame = await client.recv(timeout=0.02)
            except TimeoutError:
                break
            if frame["msg_type"] == "ERROR" and frame.get("ref") in sent:
                refused[frame["ref"]] = f"{frame['code']}: {frame['message']}"
        if refused:
            return refused
    return refused


CMDB = """\
institutions:
  - code: ORG
    name: Org
    systems:
      - code: APP
        name: App
        nodes:
          - {asset_code: ORG-WAS-01, host: 127.0.0.1, layer: WAS, env: dev, agent: org-agent, services: [app]}
agents:
  - {id: org-agent, institution: ORG}
"""


async def test_a_full_disk_gives_clear_errors_corrupts_nothing_and_recovers(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    disk = small_disk.mountpoint
    db = Database(f"sqlite+aiosqlite:///{disk / 'guardia.db'}")
    await db.import_cmdb(CMDB)  # an upload belongs to a system
    await db.add_room("lab")
    token = await db.add_user("oscar", "operator")
    (disk / "data").mkdir()
    hub = HubProcess(
        db, disk / "data", GUARDIA_RATE_PER_SECOND="100000", GUARDIA_RATE_BURST="100000"
    )
    hub.log_path = tmp_path / "hub.log"  # the log must not be what fills the disk
    await hub.start()
    auth = {"Authorization": f"Bearer {token}"}
    try:
        async with chat_client(hub, token) as oscar, httpx.AsyncClient(timeout=10) as http:
            await oscar.join("lab")
            await oscar.send(msg_type="CHAT", room_id="lab", content="before")
            before = await oscar.expect("CHAT", content="before")

            filler = small_disk.fill()
            refused = await send_until_refused(oscar)
            assert refused, "the hub stored everything on a full disk"
            assert all(
                m.startswith("INTERNAL: ") and "could not be stored" in m for m in refused.values()
            ), refused
            upload = await http.post(
                hub.http + "/api/artifacts?filename=app.war&system=APP",
                content=b"x" * 300_000,
                headers=auth,
            )
            assert upload.status_code >= 500
            problem = upload.json()
            assert problem["code"] == "INTERNAL" and "space" in problem["message"], problem
            # still up, still reading
            assert (await http.get(hub.http + "/api/health")).status_code == 200
            history = await http.get(hub.http + "/api/rooms/lab/messages", headers=auth)
            assert history.status_code == 200 and history.json()

            filler.unlink()
            await asyncio.sleep(0.2)
            await oscar.send(msg_type="CHAT", room_id="lab", content="after")
            after = await oscar.expect("CHAT", content="after", timeout=10)
            upload = await http.post(
                hub.http + "/api/artifacts?filename=app.war&system=APP",
                content=b"x" * 300_000,
                headers=auth,
            )
            assert upload.status_code == 201, upload.text
            stored = await http.get(hub.http + "/api/rooms/lab/messages?limit=1000", headers=auth)
    finally:
        hub.stop()
    seqs = [frame["seq"] for frame in stored.json()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert before["seq"] in seqs and after["seq"] == seqs[-1]
    with sqlite3.connect(disk / "guardia.db") as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert not list((disk / "data" / "artifacts").glob(".*.part")), "a partial upload was left"
