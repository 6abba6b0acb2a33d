"""The examples in docs/operations.md are what the code reads and prints: the CMDB file
loads, the agent.yaml is a valid agent configuration, the refused-file example is the
CLI's own output for that file, and the plan is what `guardia parse` prints."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import asyncssh
import orjson
import pytest
from harness import BIN, REPO

from agent.catalog import CATALOG
from agent.config import parse_config
from cmdb.document import load_cmdb
from hub.parser.plan import Plan
from protocol.signing import generate_private_key, public_key_to_pem

OPERATIONS = REPO / "docs" / "operations.md"
HUB_KEY = public_key_to_pem(generate_private_key().public_key())


def blocks(section: str, language: str) -> list[str]:
    """The fenced blocks of one `## section` of operations.md, in the given language."""
    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end > 0 else len(text)]
    found = re.findall(r"^( *)```" + re.escape(language) + r"\n(.*?)^\1```", body, re.M | re.S)
    return ["\n".join(line[len(pad) :] for line in code.splitlines()) + "\n" for pad, code in found]


def guardia(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")}
    env = clean | {"GUARDIA_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'guardia.db'}"}
    return subprocess.run(
        [str(BIN / "guardia"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_cmdb_file_example_loads() -> None:
    (example,) = blocks("CMDB file", "yaml")
    document = load_cmdb(example, source="operations.md")
    assert [s.code for i in document.institutions for s in i.systems] == ["BUDGET"]


def test_the_refused_file_example_is_what_the_cli_prints(tmp_path: Path) -> None:
    (example,) = blocks("CMDB file", "yaml")
    (shown,) = blocks("CMDB file", "")
    bad = example.replace("layer: WAS ", "layer: APP ").replace(
        "agent: mof-agent-01 ", "agent: nobody "
    )
    (tmp_path / "cmdb.yaml").write_text(bad, encoding="utf-8")
    for command in (["cmdb", "import", "cmdb.yaml"], ["parse", "--cmdb", "cmdb.yaml", "x"]):
        done = guardia(*command, cwd=tmp_path)
        assert done.returncode == 2
        prog = "guardia " + " ".join(command[:2] if command[0] == "cmdb" else command[:1])
        assert done.stderr == shown.replace("guardia cmdb import:", f"{prog}:"), done.stderr
    assert not (tmp_path / "guardia.db").exists()  # refused before any database


def test_the_agent_yaml_example_is_a_valid_configuration(tmp_path: Path) -> None:
    (example,) = blocks("Agent configuration (`agent.yaml`)", "yaml")
    # the customer machine's files, made here: the agent reads them when it loads
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(tmp_path / "id_ed25519"))
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "hub.pub").write_bytes(HUB_KEY)
    config = parse_config(
        example.replace("/etc/guardia/", f"{tmp_path}/"), path="agent.yaml", known_actions=CATALOG
    )
    assert config.services["postgresql"].kind == "postgresql"
    assert set(config.nodes) == {"MOF-WAS-01", "MOF-WEB-01"}


def test_the_plan_example_is_what_guardia_parse_prints(tmp_path: Path) -> None:
    (example,) = blocks("The plan (what `guardia parse` prints)", "json")
    shown = orjson.loads(example)
    assert list(shown) == list(Plan.model_fields)  # the fields in their promised order
    done = guardia(
        "parse",
        "--cmdb",
        str(REPO / "examples" / "cmdb.yaml"),
        "기재부 예산시스템 WAS 재기동해줘",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout) == shown


@pytest.mark.parametrize("name", ["cmdb.yaml", "agent.yaml"])
def test_the_examples_folder_says_where_it_is_described(name: str) -> None:
    text = (REPO / "examples" / name).read_text(encoding="utf-8")
    assert "docs/operations.md" in text
