"""17.2 and 17.3: artifacts belong to their system; task views show no secrets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from harness import Database, chat_client
from test_hub_agents import wait_online
from test_hub_deploy import deploy_config
from test_hub_pipeline import command, running_lab


async def upload(base: str, token: str, name: str, body: bytes, system: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{base}/api/artifacts",
            params={"filename": name, "system": system},
            content=body,
            headers={"Authorization": f"Bearer {token}"},
        )


async def test_another_institution_cannot_replace_a_deploy_artifact(
    sqlite_db: Database, tmp_path: Path
) -> None:
    deploy = tmp_path / "webapps"
    deploy.mkdir()
    async with running_lab(sqlite_db, tmp_path, start_agent=False) as lab:
        lab.agent.config.write_text(deploy_config(tmp_path, lab.hub.data_dir / "hub.pub", deploy))
        lab.agent.start()
        await wait_online(lab.hub, "lab-agent")
        ours, theirs = b"the real release " * 1000, b"something else " * 1000
        assert (
            await upload(lab.hub.http, lab.tokens["oscar"], "app.war", ours, "LABSTG")
        ).status_code == 201
        # zed (operator of ZOO) may not upload for LAB, and his own upload is ZOO's alone
        refused = await upload(lab.hub.http, lab.tokens["zed"], "app.war", theirs, "LABSTG")
        assert refused.status_code == 403
        own = await upload(lab.hub.http, lab.tokens["zed"], "app.war", theirs, "ZOOSYS")
        assert own.status_code == 201  # newer than oscar's, same name
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS에 app.war 배포해줘")
            [shown] = plan["artifacts"]  # type: ignore[misc]
            assert shown["sha256"] == hashlib.sha256(ours).hexdigest()
            assert shown["uploaded_by"] == "oscar"
            done = await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert (deploy / "app.war").read_bytes() == ours


async def test_task_views_carry_no_fetch_token_and_are_scoped(
    sqlite_db: Database, tmp_path: Path
) -> None:
    deploy = tmp_path / "webapps"
    deploy.mkdir()
    async with running_lab(sqlite_db, tmp_path, start_agent=False) as lab:
        lab.agent.config.write_text(deploy_config(tmp_path, lab.hub.data_dir / "hub.pub", deploy))
        lab.agent.start()
        await wait_online(lab.hub, "lab-agent")
        body = b"release " * 1000
        assert (
            await upload(lab.hub.http, lab.tokens["oscar"], "app.war", body, "LABSTG")
        ).status_code == 201
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험검증계 WAS에 app.war 배포해줘")
            await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=60)
        async with httpx.AsyncClient() as http:
            url = f"{lab.hub.http}/api/tasks/{plan['task_id']}"
            as_viewer = await http.get(
                url, headers={"Authorization": f"Bearer {lab.tokens['vic']}"}
            )
            as_stranger = await http.get(
                url, headers={"Authorization": f"Bearer {lab.tokens['zed']}"}
            )
            listed = await http.get(
                f"{lab.hub.http}/api/tasks",
                headers={"Authorization": f"Bearer {lab.tokens['vic']}"},
            )
    assert as_viewer.status_code == 200
    steps = as_viewer.json()["steps"]
    assert steps[0]["action"] == "DEPLOY_ARTIFACT"
    assert steps[0]["params"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert "fetch_token" not in as_viewer.text and "token" not in str(steps)
    assert "fetch_token" not in listed.text
    assert as_stranger.status_code == 404
