"""Markup and shell text are data, never code (held).

- XSS: institution and system names and chat content with <script> and <img onerror> are
  stored and served exactly, as JSON, and the web app is served under a policy that runs no
  inline script (its modules build no HTML from strings: tests/test_web_static.py).
- Shell metacharacters in a command sentence reach no shell: the agent runs its own
  configured command with parameters from the CMDB.
- CMDB fields that travel to the agent (asset codes, services, agent ids) with shell text or
  path traversal are refused by `guardia cmdb import`, whole, naming the line.
- Artifact file names with paths, '..', hidden names or shell text are refused, and
  nothing is written outside the artifact store; the download route reads no other file.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from harness import BIN, chat_client
from test_hub_pipeline import CMDB, Lab

from hub.web.security_headers import CONTENT_SECURITY_POLICY
from security.security_lab import MODULE_LOOP, ask, drain

pytestmark = [MODULE_LOOP]

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
SVG = '"><svg onload=alert(1)>'
BAD_FILENAMES = [
    "../evil.war",
    "..",
    "../../etc/passwd",
    "a/b.war",
    "a\\b.war",
    ".hidden.war",
    "x;rm -rf ~.war",
    "$(id).war",
    "`id`.war",
    "evil.war\x00.txt",
    "%2e%2e%2fevil.war",
]


def xss_cmdb() -> str:
    document = yaml.safe_load(CMDB)
    document["institutions"].append(
        {
            "code": "XSS",
            "name": f"{SCRIPT}기관",
            "aliases": [IMG],
            "systems": [
                {
                    "code": "XSSSYS",
                    "name": f"{SVG}시스템",
                    "aliases": ["마크업시스템"],
                    "nodes": [
                        {
                            "asset_code": "XSS-WAS-01",
                            "host": "127.0.0.1",
                            "layer": "WAS",
                            "env": "dev",
                            "agent": "lab-agent",
                            "services": ["app"],
                        }
                    ],
                }
            ],
        }
    )
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def root_headers(lab: Lab) -> dict[str, str]:
    return {"Authorization": f"Bearer {lab.tokens['root']}"}


async def test_markup_in_names_and_chat_is_stored_and_served_as_exact_json_text(
    seclab: Lab,
) -> None:
    await seclab.db.import_cmdb(xss_cmdb())
    await seclab.db.add_room("xss", "XSS")  # commands run in a room of their system's scope
    await asyncio.sleep(2.1)  # the hub's CMDB snapshot lives 2 s
    async with chat_client(seclab.hub, seclab.tokens["root"]) as root:
        await root.join("xss")
        await root.send(msg_type="CHAT", room_id="xss", content=f"{SCRIPT} {IMG} {SVG}")
        said = await root.expect("CHAT", sender="root")
        await ask(root, "마크업시스템 상태 확인해줘", room="xss")
        plan = await root.expect("COMMAND_PLAN")
    assert said["content"] == f"{SCRIPT} {IMG} {SVG}"
    assert plan["plan"]["system_name"] == "XSSSYS"
    assert f"{SVG}시스템" in plan["content"]  # the name as it is: data, for textContent
    async with httpx.AsyncClient() as http:
        history = await http.get(
            f"{seclab.hub.http}/api/rooms/xss/messages?limit=1000", headers=root_headers(seclab)
        )
        task = await http.get(
            f"{seclab.hub.http}/api/tasks/{plan['task_id']}", headers=root_headers(seclab)
        )
        # an id with markup: a JSON 404 (no HTML anywhere, and browsers may not sniff it)
        reflected = await http.get(
            f"{seclab.hub.http}/api/tasks/{IMG}", headers=root_headers(seclab)
        )
        # with a '/' it matches no API route and falls to the static files: plain text
        unrouted = await http.get(f"{seclab.hub.http}/api/tasks/{SCRIPT}")
        page = await http.get(seclab.hub.http + "/")
    for answer in (history, task, reflected):
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert f"{SCRIPT} {IMG} {SVG}" in [m["content"] for m in history.json()]
    assert reflected.status_code == 404
    assert unrouted.status_code == 404 and "<script" not in unrouted.text
    assert not unrouted.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


async def test_shell_text_in_a_command_reaches_no_shell(seclab: Lab, tmp_path: Path) -> None:
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    before = seclab.restarts
    tails = [f"; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", f"&& touch {marker}"]
    async with chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        for tail in tails:
            await ask(oscar, f"실험검증계 WAS 재기동해줘 {tail}")
        # each sentence is answered (a plan that runs, or a question); read all of it
        await drain(oscar, quiet=2.0)
        plans = [f for f in oscar.seen if f["msg_type"] == "COMMAND_PLAN"]
        for plan in plans:
            await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        await asyncio.sleep(0.5)
    assert not marker.exists(), "a shell ran text from the chat"
    # whatever was understood ran the configured restart, once per plan, and nothing else
    assert seclab.restarts - before == len(plans)
    for plan in plans:
        assert plan["plan"]["target_nodes"] == ["LAB-STG-WAS-01"]
    restarts = seclab.workdir / "restarts.log"
    assert not restarts.exists() or marker.name not in restarts.read_text()


#: CMDB fields that travel to the agent, with what an attacker would put there
AGENT_BOUND_FIELDS = [
    ("services", ["app; touch /tmp/guardia-pwned"]),
    ("services", ["$(touch /tmp/guardia-pwned)"]),
    ("services", ["../../bin/sh"]),
    ("asset_code", "../../etc/passwd"),
    ("asset_code", "LAB-WAS-09;reboot"),
    ("agent", "lab-agent && reboot"),
    ("agent", "../lab-agent"),
]


async def test_cmdb_import_refuses_shell_text_and_paths_in_what_reaches_the_agent(
    seclab: Lab, tmp_path: Path
) -> None:
    env = {**os.environ, "GUARDIA_DATABASE_URL": seclab.db.url}

    def guardia(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "guardia"), *args], env=env, capture_output=True, text=True
        )

    before = guardia("cmdb", "export").stdout
    for n, (field, value) in enumerate(AGENT_BOUND_FIELDS):
        document = yaml.safe_load(CMDB)
        document["institutions"][0]["systems"][0]["nodes"][0][field] = value
        bad = tmp_path / f"bad{n}.yaml"
        bad.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        result = guardia("cmdb", "import", str(bad))
        assert result.returncode != 0, (field, value)
        assert re.search(rf"bad{n}\.yaml:\d+: ", result.stderr), result.stderr  # the line
        assert field in result.stderr and "not allowed" in result.stderr
    assert guardia("cmdb", "export").stdout == before  # nothing half-imported
    assert not Path("/tmp/guardia-pwned").exists()


@pytest.mark.parametrize("filename", BAD_FILENAMES)
async def test_artifact_names_with_paths_or_shell_text_are_refused(
    seclab: Lab, filename: str
) -> None:
    store = seclab.hub.data_dir / "artifacts"
    before = set(store.rglob("*")) if store.exists() else set()
    around = set(seclab.hub.data_dir.parent.iterdir())
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{seclab.hub.http}/api/artifacts",
            params={"filename": filename},
            content=b"payload",
            headers={"Authorization": f"Bearer {seclab.tokens['oscar']}"},
        )
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["code"] == "BAD_FRAME" and "filename" in problem["message"]
    after = set(store.rglob("*")) if store.exists() else set()
    assert after == before
    assert set(seclab.hub.data_dir.parent.iterdir()) == around


@pytest.mark.parametrize(
    "path",
    [
        "/api/artifacts/../../hub_signing_key.pem",
        "/api/artifacts/..%2F..%2Fhub_signing_key.pem",
        "/api/artifacts/%2e%2e%2f%2e%2e%2fhub_signing_key.pem",
        "/api/artifacts/hub_signing_key.pem",
    ],
)
async def test_the_download_route_reads_no_other_file(seclab: Lab, path: str) -> None:
    def get() -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", seclab.hub.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {seclab.tokens['oscar']}"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    status, body = await asyncio.to_thread(get)
    assert status in (401, 403, 404)
    assert b"PRIVATE KEY" not in body and b"BEGIN" not in body


async def test_a_deploy_of_a_traversal_name_from_chat_runs_nothing(seclab: Lab) -> None:
    before = seclab.restarts
    async with chat_client(seclab.hub, seclab.tokens["oscar"]) as oscar:
        await oscar.join("lab")
        ref = await ask(oscar, "실험검증계 WAS에 ../../etc/passwd.war 배포해줘")
        refused = await oscar.expect("ERROR", ref=ref, timeout=15)
        await drain(oscar, quiet=1.5)
        tasks = [f for f in oscar.seen if f["msg_type"] in ("TASK_UPDATE", "TASK_FINISHED")]
    # the plan names a bare file, which must be an upload in the store: there is none
    assert "passwd.war" in refused["message"] and "../" not in refused["message"]
    assert not tasks
    assert seclab.restarts == before
