"""protocol: every integer and list a peer may send is bounded (what databases and browsers hold).

Issue 17.8: `JOIN after_seq=2**63` overflowed SQLite on the hub. The codec now refuses any
integer outside [-(2**53 - 1), 2**53 - 1] (and negatives where a count belongs) as BAD_FRAME,
before any handler sees it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import protocol as p
from protocol.bounds import MAX_WIRE_INT

RESULT = {"node": "N1", "action": "HEALTH_CHECK", "ok": True}


def finished(**result: Any) -> dict[str, Any]:
    return {"msg_type": "TASK_FINISHED", "task_id": "T1", "status": "FAILED",
            "results": [{**RESULT, **result}]}  # fmt: skip


def event(**fields: Any) -> dict[str, Any]:
    return {"msg_type": "AGENT_EVENT", "event_id": "e1", "node": "N1", "service": "app",
            "title": "app on N1: ERROR", "lines": ["ERROR x"], "pattern": "ERROR",
            "path": "/var/log/app.log", "occurred_at": "2026-05-23T19:00:00Z", **fields}  # fmt: skip


#: (case, frame, accepted?) for every client-sent integer field
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("after_seq 0", {"msg_type": "JOIN", "room_id": "r", "after_seq": 0}, True),
    ("after_seq max", {"msg_type": "JOIN", "room_id": "r", "after_seq": MAX_WIRE_INT}, True),
    ("after_seq 2**53", {"msg_type": "JOIN", "room_id": "r", "after_seq": 2**53}, False),
    ("after_seq 2**63", {"msg_type": "JOIN", "room_id": "r", "after_seq": 2**63}, False),
    ("after_seq 2**64-1", {"msg_type": "JOIN", "room_id": "r", "after_seq": 2**64 - 1}, False),
    (
        "after_seq 2**64 (a float to orjson)",
        {"msg_type": "JOIN", "room_id": "r", "after_seq": 2**64},
        False,
    ),
    ("after_seq -1", {"msg_type": "JOIN", "room_id": "r", "after_seq": -1}, False),
    ("seq 1", {"msg_type": "PING", "seq": 1}, True),
    ("seq max", {"msg_type": "PING", "seq": MAX_WIRE_INT}, True),
    ("seq 0", {"msg_type": "PING", "seq": 0}, False),
    ("seq 2**63", {"msg_type": "PING", "seq": 2**63}, False),
    ("last_seq max", {"msg_type": "JOINED", "room_id": "r", "last_seq": MAX_WIRE_INT}, True),
    ("last_seq 2**53", {"msg_type": "JOINED", "room_id": "r", "last_seq": 2**53}, False),
    ("exit_code 255", finished(exit_code=255), True),
    ("exit_code -9", finished(exit_code=-9), True),
    ("exit_code max", finished(exit_code=MAX_WIRE_INT), True),
    ("exit_code min", finished(exit_code=-MAX_WIRE_INT), True),
    ("exit_code 2**53", finished(exit_code=2**53), False),
    ("exit_code -2**63", finished(exit_code=-(2**63)), False),
    ("duration_ms 0", finished(duration_ms=0), True),
    ("duration_ms max", finished(duration_ms=MAX_WIRE_INT), True),
    ("duration_ms 2**63", finished(duration_ms=2**63), False),
    ("duration_ms -1", finished(duration_ms=-1), False),
    ("event", event(), True),
    ("event folded max", event(folded=MAX_WIRE_INT), True),
    ("event folded 2**53", event(folded=2**53), False),
    ("event folded -1", event(folded=-1), False),
    ("event no lines", event(lines=[]), False),
    ("event 50 lines", event(lines=["x"] * 50), True),
    ("event 51 lines", event(lines=["x"] * 51), False),
    ("event line of 2001", event(lines=["x" * 2001]), False),
    ("event unknown source", event(source="syslog"), False),
    ("event unknown severity", event(severity="URGENT"), False),
    ("data null", finished(data=None), True),
    (
        "data disk",
        finished(
            data={
                "threshold": 90,
                "filesystems": [
                    {
                        "mount": "/",
                        "device": "/dev/sda1",
                        "size_kb": 2**40,
                        "used_kb": 1,
                        "avail_kb": 2,
                        "use_percent": 0,
                    }
                ],
            }
        ),
        True,
    ),
    ("data int max", finished(data={"n": [MAX_WIRE_INT, -MAX_WIRE_INT, 1.5, True, None]}), True),
    ("data int 2**53", finished(data={"n": 2**53}), False),
    ("data nested int 2**63", finished(data={"a": [{"b": [2**63]}]}), False),
    ("data too deep", finished(data={"a": [[[[[[[1]]]]]]]}), False),
    ("data not an object", finished(data=[1, 2]), False),
    ("data long string", finished(data={"s": "x" * 16_001}), False),
]


@pytest.mark.parametrize(("case", "frame", "accepted"), CASES, ids=[c[0] for c in CASES])
def test_integers_are_bounded(case: str, frame: dict[str, Any], accepted: bool) -> None:
    data = json.dumps({**frame, "message_id": "m1"})  # stdlib: any size of int
    if accepted:
        message = p.decode(data)
        assert p.decode(p.encode(message)) == message
        return
    with pytest.raises(p.BadFrame) as info:
        p.decode(data)
    assert info.value.code == p.ErrorCode.BAD_FRAME
    assert info.value.ref == "m1"
    assert f"invalid {frame['msg_type']}" in info.value.message


def test_the_bound_is_javascripts_safe_integer_and_fits_a_bigint() -> None:
    assert MAX_WIRE_INT == 9_007_199_254_740_991
    assert MAX_WIRE_INT < 2**63 - 1
