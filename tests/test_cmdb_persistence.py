"""The hub's memory on SQLite and on the real PostgreSQL: CMDB files, seq, replay."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from harness import BIN, Database, HubProcess, chat_client

EVAL_CMDB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cmdb.yaml"
GOOD = """\
institutions:
  - code: CITY
    name: 시청
    aliases: [City Hall]
    systems:
      - code: TAX
        name: 세무시스템
        nodes:
          - {asset_code: CITY-WAS-01, host: 10.0.0.1, layer: WAS, env: prod, agent: city-agent, services: [tomcat]}
agents:
  - {id: city-agent, institution: CITY}
"""


def guardia(db: Database, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GUARDIA_DATABASE_URL": db.url}
    return subprocess.run(
        [str(BIN / "guardia"), *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_import_export_round_trip_is_byte_identical(any_db: Database, tmp_path: Path) -> None:
    first = guardia(any_db, "cmdb", "import", str(EVAL_CMDB))
    assert first.returncode == 0, first.stderr
    exported = guardia(any_db, "cmdb", "export").stdout
    again = tmp_path / "again.yaml"
    again.write_text(exported, encoding="utf-8")
    assert guardia(any_db, "cmdb", "import", str(again)).returncode == 0
    assert guardia(any_db, "cmdb", "import", str(again)).returncode == 0  # idempotent
    assert guardia(any_db, "cmdb", "export").stdout == exported
    assert "MOF-WAS-01" in exported and "기획재정부" in exported


BAD_FILES = {
    "unknown layer": (GOOD.replace("layer: WAS", "layer: APP"), 9, "layer"),
    "unknown env": (GOOD.replace("env: prod", "env: production"), 9, "env"),
    "duplicate asset code": (
        GOOD.replace(
            "services: [tomcat]}\n",
            "services: [tomcat]}\n          - {asset_code: CITY-WAS-01, host: 10.0.0.2, "
            "layer: WAS, env: prod, agent: city-agent}\n",
        ),
        10,
        "CITY-WAS-01",
    ),
    "node of an unknown agent": (GOOD.replace("agent: city-agent,", "agent: ghost,"), 9, "ghost"),
    "system without institution": (
        GOOD + "systems:\n  - {code: LOOSE, name: loose}\n",
        12,
        "systems",
    ),
    "YAML syntax error": (GOOD.replace("name: 세무시스템", "name: [세무시스템"), 8, "YAML"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_cmdb_file_is_refused_whole_and_changes_nothing(
    any_db: Database, tmp_path: Path, case: str
) -> None:
    assert guardia(any_db, "cmdb", "import", str(EVAL_CMDB)).returncode == 0
    before = guardia(any_db, "cmdb", "export").stdout
    text, line, word = BAD_FILES[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    result = guardia(any_db, "cmdb", "import", str(bad))
    assert result.returncode != 0
    assert word in result.stderr, result.stderr
    assert f"bad.yaml:{line}:" in result.stderr, result.stderr
    assert guardia(any_db, "cmdb", "export").stdout == before
    assert "CITY" not in before


def test_every_problem_is_printed_the_way_guardia_parse_prints_it(
    sqlite_db: Database, tmp_path: Path
) -> None:
    from cmdb.document import load_cmdb_file
    from cmdb.exceptions import CmdbFileError

    bad = tmp_path / "bad.yaml"
    text = GOOD.replace("layer: WAS", "layer: APP").replace("agent: city-agent,", "agent: ghost,")
    bad.write_text(text.replace("code: TAX", "code: tax"), encoding="utf-8")
    with pytest.raises(CmdbFileError) as caught:
        load_cmdb_file(bad)
    assert len(caught.value.problems) == 3
    imported = guardia(sqlite_db, "cmdb", "import", str(bad))
    parsed = guardia(sqlite_db, "parse", "--cmdb", str(bad), "anything")
    assert imported.returncode != 0 and parsed.returncode == 2
    for shown in (imported.stderr, parsed.stderr):
        assert caught.value.format() in shown, shown
        assert f"{bad}: 3 problems" in shown


async def test_a_system_moved_between_institutions_is_refused_listing_each(
    sqlite_db: Database, tmp_path: Path
) -> None:
    from cmdb.database import one_session
    from cmdb.document import load_cmdb
    from cmdb.exceptions import CmdbFileError
    from cmdb.importer import import_document

    first = (
        "institutions:\n  - code: CITY\n    name: 시청\n    systems:\n"
        "      - {code: TAX, name: 세무시스템}\n      - {code: WATER, name: 상수도}\n"
    )
    moved = first.replace("code: CITY", "code: TOWN")
    async with one_session(sqlite_db.url) as session:
        await import_document(session, load_cmdb(first))
    async with one_session(sqlite_db.url) as session:
        with pytest.raises(CmdbFileError) as caught:
            await import_document(session, load_cmdb(moved), source="moved.yaml")
    assert [reason for _, reason in caught.value.problems] == [
        "system TAX belongs to institution CITY in the database, not TOWN",
        "system WATER belongs to institution CITY in the database, not TOWN",
    ]
    assert str(caught.value).startswith("moved.yaml: 2 problems\nmoved.yaml: system TAX")


@pytest.mark.slow
async def test_concurrent_senders_get_distinct_consecutive_seqs(
    any_db: Database, tmp_path: Path
) -> None:
    hub = HubProcess(any_db, tmp_path)
    await hub.start()
    try:
        await any_db.add_room("busy")
        tokens = [await any_db.add_user(f"s{i}", "viewer") for i in range(20)]

        async def sender(token: str, who: int) -> None:
            async with chat_client(hub, token) as client:
                await client.join("busy")
                for n in range(50):
                    await client.send(msg_type="CHAT", room_id="busy", content=f"{who}:{n}")
                # our own 50 come back once stored
                mine = 0
                while mine < 50:
                    frame = await client.expect("CHAT", timeout=60)
                    mine += frame["sender"] == f"s{who}"

        await asyncio.gather(*(sender(t, i) for i, t in enumerate(tokens)))
        async with httpx.AsyncClient() as http:
            frames: list[dict[str, object]] = []
            after = 0
            while True:
                page = (
                    await http.get(
                        f"{hub.http}/api/rooms/busy/messages",
                        params={"after_seq": after, "limit": 1000},
                        headers={"Authorization": f"Bearer {tokens[0]}"},
                    )
                ).json()
                if not page:
                    break
                frames += page
                after = int(page[-1]["seq"])
    finally:
        hub.stop()
    seqs = [int(f["seq"]) for f in frames]  # type: ignore[call-overload]
    assert seqs == list(range(1, 1001))
    assert len({f["content"] for f in frames}) == 1000


@pytest.mark.slow
async def test_rejoin_with_after_seq_replays_exactly_the_missed_messages_across_restart(
    any_db: Database, tmp_path: Path
) -> None:
    hub = HubProcess(any_db, tmp_path, GUARDIA_RATE_PER_SECOND="100000")
    await hub.start()
    try:
        await any_db.add_room("ops")
        reader = await any_db.add_user("reader", "viewer")
        writer = await any_db.add_user("writer", "operator")
        async with chat_client(hub, reader) as client:
            await client.join("ops")
        async with chat_client(hub, writer) as client:
            await client.join("ops")
            await client.send(msg_type="CHAT", room_id="ops", content="before")
            seen = await client.expect("CHAT", content="before")
            last = seen["seq"]
            for i in range(100):
                await client.send(msg_type="CHAT", room_id="ops", content=f"missed {i}")
            await client.expect("CHAT", content="missed 99", timeout=30)

        hub.kill()
        await hub.start()

        async with chat_client(hub, reader) as client:
            joined = await client.join("ops", after_seq=last)
            assert joined["last_seq"] == last + 100
            replayed = [await client.expect("CHAT") for _ in range(100)]
            await client.send(msg_type="PING")
            await client.expect("PONG")
            extra = [f for f in client.seen if f["msg_type"] == "CHAT"][100:]
    finally:
        hub.stop()
    assert [f["content"] for f in replayed] == [f"missed {i}" for i in range(100)]
    assert [f["seq"] for f in replayed] == list(range(last + 1, last + 101))
    assert extra == []
