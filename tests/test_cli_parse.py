"""`guardia parse` run as a real subprocess: one text, a stdin batch, bad files, an LLM down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import parse_command

REPO = Path(__file__).resolve().parents[1]
EVAL_CMDB = REPO.parent / "shared" / "eval" / "cmdb.yaml"


def guardia_parse(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_LLM_")}
    clean["LANG"] = clean["LC_ALL"] = "C"  # Korean must not depend on the locale
    return subprocess.run(
        [sys.executable, "-m", "hub.cli.parse", *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        cwd=REPO,
        env={**clean, **(env or {})},
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(EVAL_CMDB))


def _expected(text: str, index: CmdbIndex) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(parse_command(text, index).to_json())
    return value


def test_one_text_prints_its_plan(index: CmdbIndex) -> None:
    text = "@guardia 기재부 예산시스템 WAS 재기동해줘"
    done = guardia_parse("--cmdb", str(EVAL_CMDB), text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"\n") == 1
    assert orjson.loads(done.stdout) == _expected(text, index)


def test_stdin_batch_prints_one_object_per_line(index: CmdbIndex) -> None:
    texts = [
        "정부24 WAS 2번 재시작해줘",
        "restart the dBrain WAS servers",
        "",
        "나라장터 로그 보여줘",
    ]
    done = guardia_parse("--cmdb", str(EVAL_CMDB), stdin="\n".join(texts) + "\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [orjson.loads(line) for line in lines] == [_expected(t, index) for t in texts]
    # non-ASCII written as UTF-8 whatever the locale, not as \u escapes
    assert "어느 서버의 로그를 볼까요?".encode() in lines[3] and b"\\u" not in lines[3]


def test_a_refused_command_is_an_error_object_and_status_1() -> None:
    done = guardia_parse("--cmdb", str(EVAL_CMDB), stdin="x" * 5000 + "\nKONEPS disk usage\n")
    assert done.returncode == 1
    first, second = (orjson.loads(line) for line in done.stdout.splitlines())
    assert first["error"]["code"] == "TOO_LARGE"
    assert second["intent_type"] == "DISK_CHECK"


def test_a_bad_cmdb_exits_2_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("institutions:\n  - code: mof\n    name: 기획재정부\n", encoding="utf-8")
    done = guardia_parse("--cmdb", str(bad), "anything")
    assert done.returncode == 2
    assert done.stdout == b""
    message = done.stderr.decode()
    assert f"{bad}:2: " in message and "'mof' is not allowed" in message
    missing = guardia_parse("--cmdb", str(tmp_path / "none.yaml"), "anything")
    assert missing.returncode == 2 and b"cannot read the file" in missing.stderr


def test_a_bad_llm_setting_exits_2() -> None:
    env = {"GUARDIA_LLM_BASE_URL": "http://127.0.0.1:9/v1", "GUARDIA_LLM_MODEL": "m"}
    done = guardia_parse("--cmdb", str(EVAL_CMDB), "x", env={**env, "GUARDIA_LLM_TIMEOUT": "x"})
    assert done.returncode == 2 and b"GUARDIA_LLM_TIMEOUT" in done.stderr


def test_an_llm_that_is_down_costs_a_fallback_not_an_answer(index: CmdbIndex) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        "GUARDIA_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "GUARDIA_LLM_MODEL": "qwen2.5",
        "GUARDIA_LLM_API_KEY": "sk-secret-key-for-the-test",
        "GUARDIA_LLM_TIMEOUT": "2",
    }
    texts = ["정부24 대기 쿼리 보여줘", "KONEPS web restart"]
    done = guardia_parse("--cmdb", str(EVAL_CMDB), stdin="\n".join(texts), env=env)
    assert done.returncode == 0, done.stderr
    assert [orjson.loads(x) for x in done.stdout.splitlines()] == [
        _expected(t, index) for t in texts
    ]
    assert b"built-in parser answers" in done.stderr
    assert b"sk-secret-key-for-the-test" not in done.stderr


@pytest.mark.parametrize("cmdb", ["hub/cli/demo_files/cmdb.yaml", "examples/cmdb.yaml"])
def test_a_staging_request_in_the_shipped_cmdbs_targets_staging(cmdb: str) -> None:
    texts = ["디브레인 검증계 WAS 재기동", "dBrain staging WAS restart", "디브레인 WAS 재기동"]
    done = guardia_parse("--cmdb", str(REPO / cmdb), stdin="\n".join(texts) + "\n")
    assert done.returncode == 0, done.stderr
    staging, english, prod = (orjson.loads(line) for line in done.stdout.splitlines())
    for plan in (staging, english):
        assert (plan["system_name"], plan["target_nodes"]) == ("BUDGET-STG", ["MOF-STG-WAS-01"])
        assert plan["requires_approval"] is False
    assert (prod["system_name"], prod["requires_approval"]) == ("BUDGET", True)


def test_a_file_with_several_problems_lists_them_all(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "institutions:\n  - code: mof\n    name: 기획재정부\n  - code: MOF2\n    colour: blue\n",
        encoding="utf-8",
    )
    done = guardia_parse("--cmdb", str(bad), "anything")
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert lines[0] == f"guardia parse: {bad}: 3 problems"
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [f"{bad}:2", f"{bad}:4", f"{bad}:5"]
