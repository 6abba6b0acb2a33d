"""Structured logs: the hub's JSON lines carry a command's task, room, agent and user; the same
task id is in the agent's lines; no token or secret reaches either log, even at DEBUG."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from harness import AgentProcess, Database, HubProcess, chat_client
from test_hub_agents import CMDB, agent_yaml, wait_online

from hub.ops import log_context, logs
from hub.ops.redaction import REDACTED, redact, register

USER_TOKEN = "gu_" + "A1b2C3d4" * 5 + "xyz"
FETCH_TOKEN = "T0123456789AB.art-1." + "0f" * 32


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"token {USER_TOKEN} refused", USER_TOKEN),
        ("agent ga_" + "Z" * 43 + " hello", "ga_" + "Z" * 43),
        ("integration gi_" + "q" * 43, "gi_" + "q" * 43),
        (f"fetch {FETCH_TOKEN}", "0f" * 32),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("{'authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        ("posting with xoxb-1234-5678-abcdefgh", "xoxb-1234-5678-abcdefgh"),
        ('{"token": "s3cr3t-value"}', "s3cr3t-value"),
        ("url https://h/?token=s3cr3t-value&x=1", "s3cr3t-value"),
    ],
)
def test_token_shapes_and_credentials_are_redacted(line: str, secret: str) -> None:
    out = redact(line)
    assert secret not in out and REDACTED in out


def test_registered_secrets_are_redacted_and_plain_lines_are_kept() -> None:
    register(["a-secret-setting-value", None, "short"])
    assert redact("x a-secret-setting-value y") == f"x {REDACTED} y"
    for plain in ("agent lab-agent online (1 nodes)", "task T0123456789AB QUEUED", "short"):
        assert redact(plain) == plain


def _records(fmt: str) -> list[str]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = logs.log_config(fmt, "info")
    handler.setFormatter(config["formatters"]["line"]["()"]())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("guardia.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with log_context.bound(room_id="lab", user="op"):
            log_context.annotate(task_id="T1", agent_id="lab-agent")
            logger.info("with %s", USER_TOKEN)
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


def test_json_lines_carry_the_bound_fields_and_no_token() -> None:
    inside, outside = (json.loads(line) for line in _records("json"))
    assert {
        k: inside[k] for k in ("level", "logger", "task_id", "room_id", "agent_id", "user")
    } == {
        "level": "INFO",
        "logger": "guardia.test.logs",
        "task_id": "T1",
        "room_id": "lab",
        "agent_id": "lab-agent",
        "user": "op",
    }
    assert inside["message"] == f"with {REDACTED}" and "time" in inside
    assert "task_id" not in outside


def test_text_lines_carry_the_fields_too() -> None:
    inside, outside = _records("text")
    assert inside.endswith("[task_id=T1 room_id=lab agent_id=lab-agent user=op]")
    assert USER_TOKEN not in inside and "[" not in outside.split(": ", 1)[1]


def test_an_unknown_format_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="GUARDIA_LOG_FORMAT='xml'"):
        logs.log_config("xml", "info")


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


@pytest.mark.slow
async def test_a_command_is_followed_by_its_task_id_across_hub_and_agent_logs(
    sqlite_db: Database, tmp_path: Path
) -> None:
    secrets = {
        "GUARDIA_METRICS_TOKEN": "metrics-token-in-the-environment",
        "GUARDIA_SLACK_BOT_TOKEN": "xoxb-000-111-secretbot",
        "GUARDIA_LLM_API_KEY": "llm-api-key-in-the-environment",
    }
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("lab", "LAB")
    agent_token = await sqlite_db.add_agent("lab-agent")
    user_token = await sqlite_db.add_user("op", "operator:LAB")
    (tmp_path / "hub").mkdir()
    hub = HubProcess(sqlite_db, tmp_path / "hub", log_level="debug", **secrets)
    await hub.start()
    agent = AgentProcess(hub, "lab-agent", agent_token, agent_yaml(hub, tmp_path), tmp_path)
    agent.start()
    try:
        await wait_online(hub, "lab-agent")
        async with chat_client(hub, user_token) as client:
            await client.join("lab")
            # someone pastes a token in the room: stored, shown, never logged
            await client.send(msg_type="CHAT", room_id="lab", content=f"my token: {user_token}")
            await client.send(
                msg_type="CHAT", room_id="lab", content="@guardia 실험시스템 상태 확인해줘"
            )
            plan = await client.expect("COMMAND_PLAN")
            await client.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=20)
    finally:
        agent.stop()
        hub.stop()
    task_id = plan["task_id"]
    hub_lines = json_lines(hub.log_path)
    agent_lines = json_lines(agent.log_path)

    about = [line for line in hub_lines if line.get("task_id") == task_id]
    assert len(about) >= 4, "created, dispatched, running, succeeded"
    for line in about:
        assert line["room_id"] == "lab" and line["agent_id"] == "lab-agent", line
    assert any(line.get("user") == "op" for line in about)
    assert {"level", "logger", "message", "time"} <= set(about[0])
    # uvicorn's own lines are JSON too
    assert any(line["logger"].startswith("uvicorn") for line in hub_lines)
    # one grep follows the command into the agent
    assert any(line.get("task_id") == task_id for line in agent_lines), agent_lines[-5:]
    assert all(line.get("agent_id") == "lab-agent" for line in agent_lines if "task_id" in line)

    for path in (hub.log_path, agent.log_path):
        text = path.read_text()
        for secret in (user_token, agent_token, *secrets.values()):
            assert secret not in text, (path.name, secret[:8])
