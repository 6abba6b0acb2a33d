"""`guardia suggest` and `python -m hub.suggest.cli` (the same command), in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hub.parser.plan import Plan

ROOT = Path(__file__).resolve().parents[1]
CMDB = Path(__file__).resolve().parent / "data" / "cmdb_unseen.yaml"
KEYS = ["suggest", "kind", "plan", "message", "score"]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.suggest.cli", *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=90,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C"},
    )  # fmt: skip


def _answers(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_lines_from_stdin_one_answer_each_in_order() -> None:
    lines = [
        "커넥션이 안 돌아오고 쿼리가 줄줄이 대기해요",  # plain: the --scope applies
        json.dumps({"text": "the disk is almost out of space", "scope": "MAPO/KIOSK"}),
        json.dumps({"text": "다들 수고하셨습니다", "scope": None}),
        "@guardia 학사포털 DB 락 확인해줘",
        json.dumps({"text": "페이지가 안 열려요", "scope": "HKU"}),
        "{not json",
        json.dumps({"text": 3}),
        json.dumps({"text": "디스크가 찼어요", "scope": "hku/portal"}),
        "",
    ]
    done = _run("--cmdb", str(CMDB), "--scope", "HKU/PORTAL", stdin="\n".join(lines) + "\n")
    assert done.returncode == 1, done.stderr  # some lines were refused; the rest answered
    answers = _answers(done.stdout)
    assert len(answers) == len(lines)
    db, disk, chat, command, which, bad_json, bad_text, bad_scope, empty = answers
    for answer in (db, disk, chat, command, which, empty):
        assert list(answer) == KEYS
    assert db["suggest"] is True and db["kind"] == "db_delay"
    plan = Plan.model_validate(db["plan"])  # the shape `guardia parse` prints
    assert list(db["plan"]) == list(Plan.model_fields)
    assert (plan.institution, plan.system_name, plan.target_nodes) == (
        "HKU",
        "PORTAL",
        ("HKU-PT-DB1",),
    )
    assert (
        db["message"]
        == "DB 지연 징후가 감지되었습니다. 학사포털(PORTAL) DB 대기 쿼리를 조회할까요?"
    )
    assert isinstance(db["score"], float) and db["score"] > 0
    assert disk["kind"] == "disk_full" and disk["plan"]["system_name"] == "KIOSK"
    assert disk["message"].startswith("Signs of a disk running full. Check disk space on ")
    assert chat == {
        "suggest": False,
        "kind": None,
        "plan": None,
        "message": None,
        "score": chat["score"],
    }
    assert chat["score"] < 0
    assert command == {"suggest": False, "kind": None, "plan": None, "message": None, "score": None}
    assert which["kind"] == "service_down" and which["plan"]["system_name"] == "UNKNOWN"
    assert which["plan"]["institution"] == "HKU" and which["plan"]["needs_clarification"] is True
    assert "어느 시스템의 상태를 점검할까요?" in which["message"]
    assert bad_json["error"]["code"] == "BAD_JSON"
    assert bad_text["error"]["code"] == "BAD_FRAME"
    assert bad_scope["error"]["code"] == "BAD_FRAME" and "INST/SYS" in bad_scope["error"]["message"]
    assert empty["suggest"] is False


def test_one_text_argument_and_bad_arguments() -> None:
    done = _run("--cmdb", str(CMDB), "kiosk returns 503 on every page")
    assert done.returncode == 0, done.stderr
    [answer] = _answers(done.stdout)
    assert answer["kind"] == "service_down" and answer["plan"]["system_name"] == "KIOSK"
    assert answer["plan"]["action_sequence"] == ["HEALTH_CHECK"]
    bad_scope = _run("--cmdb", str(CMDB), "--scope", "A/B/C", "x")
    assert bad_scope.returncode == 2 and "--scope" in bad_scope.stderr
    missing = _run("--cmdb", str(ROOT / "no-such.yaml"), "x")
    assert missing.returncode == 2 and "no-such.yaml" in missing.stderr
    assert missing.stdout == ""


def test_guardia_suggest_is_the_same_command_and_stats_needs_no_cmdb() -> None:
    guardia = str(Path(sys.executable).parent / "guardia")
    env = {**os.environ, "LANG": "C", "GUARDIA_SUGGEST_THREADS": "1"}
    done = subprocess.run(
        [guardia, "suggest", "--cmdb", str(CMDB), "--scope", "HKU/PORTAL", "디스크가 찼어요"],
        cwd=ROOT, capture_output=True, text=True, timeout=90, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [answer] = _answers(done.stdout)
    assert answer["suggest"] is True and answer["kind"] == "disk_full"
    missing = subprocess.run(
        [guardia, "suggest", "디스크가 찼어요"], capture_output=True, text=True, timeout=30
    )
    assert missing.returncode == 2 and "--cmdb FILE.yaml is needed" in missing.stderr
    bad = subprocess.run(
        [guardia, "suggest", "--cmdb", str(CMDB), "x"], capture_output=True, text=True,
        timeout=30, env={**env, "GUARDIA_SUGGEST_THREADS": "0"},
    )  # fmt: skip
    assert bad.returncode == 2 and "GUARDIA_SUGGEST_THREADS" in bad.stderr
