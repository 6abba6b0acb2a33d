"""17.12: a rewritten, truncated or wiped audit chain is detected by `guardia audit verify`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from harness import BIN, Database, chat_client
from test_hub_pipeline import Lab, command, running_lab

from cmdb.audit import entry_hash
from cmdb.database import one_session
from cmdb.tables import AuditEvent


def verify(lab: Lab) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GUARDIA_DATABASE_URL": lab.db.url,
        "GUARDIA_DATA_DIR": str(lab.hub.data_dir),
    }
    return subprocess.run(
        [str(BIN / "guardia"), "audit", "verify"], env=env, capture_output=True, text=True
    )


async def rewrite_chain_from(db: Database, seq: int) -> None:
    """What an intruder with the database (and not the hub's data directory) can do: edit an
    entry and recompute every hash after it, so the hash chain alone holds again."""
    async with one_session(db.url) as session:
        rows = list(
            await session.exec(
                AuditEvent.__table__.select().order_by(AuditEvent.__table__.c.seq)  # type: ignore[attr-defined]
            )
        )
        prev = None
        for row in rows:
            event = await session.get(AuditEvent, row.id)
            assert event is not None
            if prev is not None:
                event.prev_hash = prev
            if event.seq == seq:
                event.actor = "someone-else"
            if event.seq >= seq:
                event.hash = entry_hash(
                    event.seq,
                    event.at,
                    event.actor,
                    event.kind,
                    event.task_id,
                    event.detail,
                    event.prev_hash,
                    event.scope,
                )
                session.add(event)
            prev = event.hash
        await session.commit()


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("DELETE FROM audit_events WHERE seq > 3", "deleted"),
        ("DELETE FROM audit_events", "deleted"),
        ("rewrite", "MAC"),
        ("UPDATE audit_events SET mac = NULL WHERE seq = 2", "MAC"),
    ],
    ids=["truncated", "wiped", "rewritten-with-hashes", "mac-removed"],
)
async def test_tampering_is_detected(
    sqlite_db: Database, tmp_path: Path, tamper: str, expected: str
) -> None:
    async with running_lab(sqlite_db, tmp_path) as lab:
        async with chat_client(lab.hub, lab.tokens["oscar"]) as oscar:
            await oscar.join("lab")
            plan = await command(oscar, "실험시스템 WAS 상태 확인해줘")
            await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
            plan = await command(oscar, "실험시스템 디스크 확인해줘")
            await oscar.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)
        ok = verify(lab)
        assert ok.returncode == 0, ok.stderr
        assert "signed head" in ok.stdout
        if tamper == "rewrite":
            await rewrite_chain_from(sqlite_db, 2)
        else:
            await sqlite_db.execute(tamper)
        bad = verify(lab)
    assert bad.returncode == 1, bad.stdout
    assert expected in bad.stderr
