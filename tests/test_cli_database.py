"""`guardia` never answers from a database it has just made up (issue 15.9): read-only
commands refuse a missing database or an old schema, and create or migrate nothing;
commands on existing rows refuse too; commands that create say where they did."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from harness import BIN, REPO, Database

HINT = "set GUARDIA_DATABASE_URL or run guardia db upgrade"


def guardia(*args: str, cwd: Path, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")}
    if url is not None:
        env["GUARDIA_DATABASE_URL"] = url
    return subprocess.run(
        [str(BIN / "guardia"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "command",
    [
        ["audit", "verify"],
        ["cmdb", "export"],
        ["user", "revoke", "alice"],
        ["user", "rotate", "alice"],
        ["agent", "revoke", "a1"],
        ["room", "link", "ops", "--slack", "C1"],
        ["user", "link", "alice", "--slack", "U1"],
    ],
    ids=" ".join,
)
def test_with_no_database_here_a_command_refuses_and_creates_none(
    tmp_path: Path, command: list[str]
) -> None:
    done = guardia(*command, cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stdout == ""
    name = " ".join(command[:2])
    expected = f"guardia {name}: no database at {tmp_path / 'guardia.db'}; {HINT}\n"
    assert done.stderr == expected
    assert list(tmp_path.iterdir()) == []


def test_a_command_that_creates_says_where_when_none_was_configured(tmp_path: Path) -> None:
    made = guardia("user", "add", "alice", "--role", "operator", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stderr == (
        f"guardia: created a new database at {tmp_path / 'guardia.db'} "
        "(GUARDIA_DATABASE_URL is not set)\n"
    )
    again = guardia("user", "add", "bob", cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""  # it is there now
    assert guardia("user", "rotate", "alice", cwd=tmp_path).returncode == 0
    upgraded = guardia("db", "upgrade", cwd=tmp_path)
    assert upgraded.stdout == f"database at {tmp_path / 'guardia.db'} is up to date\n"


def test_a_configured_new_database_is_made_quietly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'chosen.db'}"
    done = guardia("cmdb", "import", str(REPO / "examples" / "cmdb.yaml"), cwd=tmp_path, url=url)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    exported = guardia("cmdb", "export", cwd=tmp_path, url=url)
    assert exported.returncode == 0 and "MOF-STG-WAS-01" in exported.stdout


async def test_a_read_refuses_an_old_schema_and_leaves_it_old(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'guardia.db'}")
    assert guardia("db", "upgrade", cwd=tmp_path, url=db.url).returncode == 0
    await db.execute("UPDATE alembic_version SET version_num = '0001'")
    done = guardia("cmdb", "export", cwd=tmp_path, url=db.url)
    assert done.returncode == 2
    assert "its schema is at 0001, this guardia needs" in done.stderr and HINT in done.stderr
    assert guardia("cmdb", "export", cwd=tmp_path, url=db.url).returncode == 2  # still old


@pytest.mark.postgres
def test_a_read_refuses_a_postgresql_database_without_the_schema(
    postgres_db: Database, tmp_path: Path
) -> None:
    url = postgres_db.url
    done = guardia("audit", "verify", cwd=tmp_path, url=url)
    assert done.returncode == 2
    assert "it has no GUARDiA schema" in done.stderr and HINT in done.stderr
    assert guardia("audit", "verify", cwd=tmp_path, url=url).returncode == 2  # nothing made


def test_import_names_the_file_for_a_system_moved_between_institutions(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'guardia.db'}"
    first = tmp_path / "first.yaml"
    first.write_text(
        "institutions:\n  - code: CITY\n    name: 시청\n    systems:\n"
        "      - {code: TAX, name: 세무시스템}\n",
        encoding="utf-8",
    )
    moved = tmp_path / "moved.yaml"
    moved.write_text(first.read_text().replace("CITY", "TOWN"), encoding="utf-8")
    assert guardia("cmdb", "import", str(first), cwd=tmp_path, url=url).returncode == 0
    done = guardia("cmdb", "import", "moved.yaml", cwd=tmp_path, url=url)
    assert done.returncode == 2
    assert done.stderr == (
        "guardia cmdb import: moved.yaml: system TAX belongs to institution CITY in the "
        "database, not TOWN\n"
    )
