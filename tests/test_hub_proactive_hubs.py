"""Where chromadb lives: a hub with nothing but loopback, and two hubs sharing `chroma run`.

- A hub inside a network namespace that has only loopback starts, loads the bundled model
  and its embedded chromadb, and makes a suggestion: nothing is downloaded, nothing dials
  out (there is nowhere to dial).
- Two hubs on one PostgreSQL and one `chroma run` server on loopback (GUARDIA_CHROMA_URL):
  a false alarm dismissed on one is not suggested on the other; a cooldown claimed and a
  mute pressed on one hold on the other (they are in the database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import unavailable
from harness import REPO, Database, HubProcess, chat_client
from proactive_lab import (
    DB_LOCK,
    DB_SLOW,
    DISK,
    DOWN,
    LOG_ERRORS,
    button,
    press,
    said,
    seed,
    suggest_health,
    suggestion,
)
from proactive_lab import chroma_server as chroma_server

pytestmark = [pytest.mark.slow, pytest.mark.long]

# Runs inside the namespace: a hub (a child of this child, so in the namespace too), a
# symptom said in a room, and what came back.
INSIDE = r"""
import asyncio, json, sys
from pathlib import Path
from harness import Database, HubProcess, chat_client
from proactive_lab import DISK, said, seed, suggest_health, suggestion

async def main(workdir):
    db = Database(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")
    tokens = await seed(db)
    (workdir / "hub").mkdir()
    hub = HubProcess(db, workdir / "hub")
    await hub.start()
    try:
        async with chat_client(hub, tokens["oscar"]) as oscar:
            await oscar.join("r-run")
            outcome = await said(hub, oscar, "r-run", DISK)
            offer = await suggestion(oscar, "r-run")
        health = await suggest_health(hub)
    finally:
        hub.stop()
    print(json.dumps({"outcome": outcome, "content": offer["content"],
                      "state": health["state"], "log": hub.log()[-2000:]}, ensure_ascii=False))

asyncio.run(main(Path(sys.argv[1])))
"""


def test_the_hub_suggests_with_nothing_but_loopback(tmp_path: Path) -> None:
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        unavailable(f"a network namespace (unshare -n: {probe.stderr.strip()})")
    command = f'ip link set lo up && exec {sys.executable} -c "$INSIDE" {tmp_path}'
    env = {
        **os.environ,
        "INSIDE": INSIDE,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
    }
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "posted" and report["state"] == "ready", report
    assert report["content"].startswith("디스크 용량 부족 징후가 감지되었습니다.")
    assert "Traceback" not in report["log"], report["log"]


@pytest.mark.postgres
async def test_two_hubs_on_one_chroma_server_both_see_a_dismissal(
    postgres_db: Database,
    tmp_path: Path,
    chroma_server: str,
) -> None:
    tokens = await seed(postgres_db)
    hubs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        hubs.append(HubProcess(postgres_db, tmp_path / name, GUARDIA_CHROMA_URL=chroma_server))
    for hub in hubs:
        await hub.start()
    one, other = hubs
    try:
        async with (
            chat_client(one, tokens["olive"]) as here,
            chat_client(other, tokens["oscar"]) as there,
        ):
            await here.join("r-dismiss")
            await there.join("r-again")
            # the other hub suggests for itself, from the shared store
            assert await said(other, there, "r-again", DB_SLOW) == "posted"
            await suggestion(there, "r-again")
            assert await said(one, here, "r-dismiss", LOG_ERRORS) == "posted"
            offer = await suggestion(here, "r-dismiss")
            await press(here, "r-dismiss", button(offer, "DISMISS_SUGGESTION"))
            await here.expect("BUTTON_STATE", room_id="r-dismiss")
            # dismissed on the first hub, known on the other (a room of the same scope)
            assert await said(other, there, "r-again", LOG_ERRORS) == "dismissed"
            # the cooldown the other hub claimed in r-again holds on this one
            await here.join("r-again")
            assert await said(one, here, "r-again", DB_LOCK) == "cooldown"
            # a mute pressed on this hub keeps the other quiet in that room
            await there.join("r-dismiss")
            assert await said(one, here, "r-dismiss", DOWN) == "posted"
            offer = await suggestion(here, "r-dismiss")
            await press(here, "r-dismiss", button(offer, "MUTE_SUGGESTIONS"))
            await here.expect("CHAT", room_id="r-dismiss", sender="GUARDiA-Bot")
            assert await said(other, there, "r-dismiss", DISK) == "muted"
        for hub in hubs:
            assert (await suggest_health(hub))["state"] == "ready"
    finally:
        for hub in hubs:
            hub.stop()
