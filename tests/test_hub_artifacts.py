"""POST /api/artifacts: size limit, sha256, file names; GET only with a task-scoped token."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from harness import Database, HubProcess

CMDB = """\
institutions:
  - code: ORG
    name: Org
    systems:
      - code: APP
        name: App
        nodes:
          - {asset_code: ORG-WAS-01, host: 127.0.0.1, layer: WAS, env: prod, agent: org-agent, services: [app]}
agents:
  - {id: org-agent, institution: ORG}
"""


@pytest.fixture
async def small_hub(sqlite_db: Database, tmp_path: Path) -> HubProcess:
    await sqlite_db.import_cmdb(CMDB)
    hub = HubProcess(sqlite_db, tmp_path, GUARDIA_MAX_ARTIFACT_BYTES=str(1024 * 1024))
    await hub.start()
    yield hub  # type: ignore[misc]
    hub.stop()


def stored_files(hub: HubProcess) -> list[str]:
    store = hub.data_dir / "artifacts"
    return sorted(os.listdir(store)) if store.exists() else []


async def test_upload_stores_the_file_with_its_sha256(small_hub: HubProcess) -> None:
    token = await small_hub.db.add_user("alice", "operator")
    body = os.urandom(300_000)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            small_hub.http + "/api/artifacts",
            params={"filename": "budget-2.3.1.war", "system": "APP"},
            content=body,
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["filename"] == "budget-2.3.1.war"
    assert answer["size"] == len(body)
    assert answer["sha256"] == hashlib.sha256(body).hexdigest()
    assert (answer["system"], answer["uploaded_by"]) == ("APP", "alice")
    stored = small_hub.data_dir / "artifacts" / answer["artifact_id"]
    assert stored.read_bytes() == body


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b.war", "..war", ".hidden", "", "x y.war"])
async def test_bad_file_names_are_refused(small_hub: HubProcess, name: str) -> None:
    token = await small_hub.db.add_user("alice", "operator")
    async with httpx.AsyncClient() as http:
        response = await http.post(
            small_hub.http + "/api/artifacts",
            params={"filename": name, "system": "APP"},
            content=b"data",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 400
    assert "filename" in response.json()["message"]
    assert stored_files(small_hub) == []


async def test_oversize_upload_is_refused_and_leaves_nothing(small_hub: HubProcess) -> None:
    token = await small_hub.db.add_user("alice", "operator")

    async def stream() -> object:
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB, no Content-Length: the limit is enforced while reading

    async with httpx.AsyncClient() as http:
        response = await http.post(
            small_hub.http + "/api/artifacts",
            params={"filename": "big.war", "system": "APP"},
            content=stream(),  # type: ignore[arg-type]
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "TOO_LARGE"
    assert stored_files(small_hub) == []


async def test_viewers_and_strangers_cannot_upload(small_hub: HubProcess) -> None:
    viewer = await small_hub.db.add_user("vic", "viewer")
    async with httpx.AsyncClient() as http:
        as_viewer = await http.post(
            small_hub.http + "/api/artifacts?filename=a.war&system=APP",
            content=b"x",
            headers={"Authorization": f"Bearer {viewer}"},
        )
        anonymous = await http.post(
            small_hub.http + "/api/artifacts?filename=a.war&system=APP", content=b"x"
        )
    assert as_viewer.status_code == 403
    assert anonymous.status_code == 401


async def test_download_needs_a_task_scoped_token(small_hub: HubProcess) -> None:
    token = await small_hub.db.add_user("alice", "operator")
    async with httpx.AsyncClient() as http:
        up = await http.post(
            small_hub.http + "/api/artifacts?filename=a.war&system=APP",
            content=b"payload",
            headers={"Authorization": f"Bearer {token}"},
        )
        artifact_id = up.json()["artifact_id"]
        with_user_token = await http.get(
            f"{small_hub.http}/api/artifacts/{artifact_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        forged = await http.get(
            f"{small_hub.http}/api/artifacts/{artifact_id}",
            headers={"Authorization": f"Bearer TDEADBEEF0000.{artifact_id}.{'0' * 64}"},
        )
    assert with_user_token.status_code == 401
    assert forged.status_code == 401
