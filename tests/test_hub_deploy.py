"""A deploy commanded in chat: upload to the hub, the agent fetches it with a task token,
swaps it in, restarts, health-checks; rollback restores the previous file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from harness import Database, chat_client
from test_hub_agents import wait_online
from test_hub_pipeline import command, running_lab


def deploy_config(lab_dir: Path, hub_pub: Path, deploy: Path) -> str:
    return (
        f"hub_public_key: {hub_pub}\n"
        f"outbox: {lab_dir / 'outbox.sqlite'}\n"
        "nodes:\n  LAB-STG-WAS-01: {transport: local}\n"
        "services:\n"
        f"  app: {{restart: 'echo restarted >> {lab_dir}/restarts.log', status: 'echo active',"
        f" deploy_path: {deploy}}}\n"
    )


async def upload(http: httpx.AsyncClient, base: str, token: str, name: str, body: bytes) -> None:
    response = await http.post(
        f"{base}/api/artifacts",
        params={"filename": name, "system": "LABSTG"},
        content=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text


async def test_deploy_and_rollback_from_chat(sqlite_db: Database, tmp_path: Path) -> None:
    deploy = tmp_path / "webapps"
    deploy.mkdir()
    (deploy / "app.war").write_bytes(b"version 1")
    async with running_lab(sqlite_db, tmp_path, start_agent=False) as lab:
        lab.agent.config.write_text(deploy_config(tmp_path, lab.hub.data_dir / "hub.pub", deploy))
        lab.agent.start()
        await wait_online(lab.hub, "lab-agent")
        body = b"version 2 " * 100_000
        async with httpx.AsyncClient() as http:
            await upload(http, lab.hub.http, lab.tokens["oscar"], "app.war", body)
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS에 app.war 배포해줘")
            assert plan["plan"]["deploy_artifacts"] == ["app.war"]  # type: ignore[index]
            (shown,) = plan["artifacts"]  # type: ignore[misc]
            assert shown["sha256"] == hashlib.sha256(body).hexdigest()
            assert (shown["size"], shown["uploaded_by"]) == (len(body), "oscar")
            assert hashlib.sha256(body).hexdigest() in str(plan["content"])
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=60)
            assert done["status"] == "SUCCEEDED", done
            progress = [f for f in oscar.seen if f["msg_type"] == "TASK_UPDATE"]
            deployed = hashlib.sha256((deploy / "app.war").read_bytes()).hexdigest()
            assert deployed == hashlib.sha256(body).hexdigest()

            plan = await command(oscar, "실험검증계 WAS 롤백해줘")
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert (deploy / "app.war").read_bytes() == b"version 1"
        assert progress, "no TASK_UPDATE was posted while deploying"


async def test_deploy_of_a_file_never_uploaded_is_refused(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path) as lab:
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            ref = await oscar.send(
                msg_type="CHAT",
                room_id="lab",
                content="@guardia 실험검증계 WAS에 ghost-9.war 배포해줘",
            )
            error = await oscar.expect("ERROR", ref=ref)
        assert "ghost-9.war" in error["message"]
        assert "업로드" in error["message"]
