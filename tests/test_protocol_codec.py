"""protocol: every message type round-trips; every class of malformed input is named."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

import protocol as p
from protocol.tables import ALL_TYPES

BUTTON = {"label": "즉시 확인", "action_id": "a1", "command_code": "CHECK_DISK_SPACE"}
RESULT = {
    "node": "MOF-WAS-01",
    "action": "HEALTH_CHECK",
    "ok": True,
    "exit_code": 0,
    "summary": "active",
    "output_tail": "active\n",
    "duration_ms": 12,
    "data": {"service": "tomcat", "url": None, "status_code": None, "healthy": True, "attempts": 1},
}
PLAN = {"intent_type": "STATUS", "target_nodes": ["MOF-WAS-01"]}

#: a valid example of every message type, with its required fields
EXAMPLES: dict[str, dict[str, Any]] = {
    "AUTH": {"token": "gu_x"},
    "JOIN": {"room_id": "ops", "after_seq": 3},
    "LEAVE": {"room_id": "ops"},
    "CHAT": {"room_id": "ops", "content": "@guardia 상태 확인해줘"},
    "ACTION": {"room_id": "ops", "action_id": "a1"},
    "FEEDBACK": {"room_id": "ops", "target_message_id": "m7", "helpful": False},
    "PING": {},
    "PONG": {},
    "HELLO": {"session_id": "s", "user": "alice", "roles": ["operator"], "server_version": "1"},
    "JOINED": {"room_id": "ops", "last_seq": 10, "feedback": {"m7": False, "m9": True}},
    "COMMAND_PLAN": {"task_id": "T1", "plan": PLAN, "requires_approval": False},
    "APPROVAL_REQUEST": {
        "task_id": "T1",
        "requested_by": "alice",
        "plan": PLAN,
        "expires_at": "2026-05-23T19:30:00Z",
    },
    "TASK_UPDATE": {"task_id": "T1", "status": "RUNNING", "node": "N1", "progress": 0.5},
    "TASK_FINISHED": {"task_id": "T1", "status": "SUCCEEDED", "results": [RESULT]},
    "BUTTON_STATE": {"room_id": "ops", "action_ids": ["a1", "a2"], "state": "USED", "by": "bob"},
    "ERROR": {"code": "BAD_JSON", "message": "frame is not valid JSON", "ref": "m1"},
    "AGENT_HELLO": {
        "agent_id": "ag1",
        "version": "0.1.0",
        "actions": ["CHECK_DISK_SPACE"],
        "nodes": ["N1"],
        "pending_results": [],
    },
    "TASK_ACCEPTED": {"task_id": "T1"},
    "TASK_PROGRESS": {"task_id": "T1", "step": "RESTART_SERVICE", "node": "N1", "progress": 1},
    "WELCOME": {"agent_id": "ag1", "server_version": "0.1.0"},
    "TASK_ASSIGN": {
        "task_id": "T1",
        "agent_id": "ag1",
        "room_id": "ops",
        "requested_by": "alice",
        "approved_by": ["bob"],
        "deadline": "2026-05-23T19:30:00Z",
        "steps": [{"action": "HEALTH_CHECK", "node": "N1", "params": {"service": "tomcat"}}],
        "signature": None,
    },
    "TASK_CANCEL": {"task_id": "T1"},
    "ACK": {"task_id": "T1"},
    "ALERT": {
        "room_id": "ops",
        "alert_id": "I1",
        "status": "firing",
        "severity": "HIGH",
        "title": "TomcatDown",
        "summary": "WAS is down",
        "asset_code": "N1",
        "source": "alertmanager",
        "occurrences": 3,
        "first_seen": "2026-05-23T19:00:00Z",
        "last_seen": "2026-05-23T19:00:09Z",
        "similar": {
            "at": "2026-05-01T10:00:00Z",
            "asset_code": "N2",
            "resolution": "N2 재기동으로 해결",
            "alert_id": "I0",
            "resolved_by": "task",
            "action": "RESTART_SERVICE",
            "node": "N2",
        },
        "probable_cause": {"ko": "힙 부족", "en": "Too small a heap", "source": "llm"},
    },
    "AGENT_EVENT": {
        "event_id": "e1",
        "node": "MOF-WAS-01",
        "service": "tomcat",
        "source": "log_watch",
        "severity": "HIGH",
        "title": "tomcat on MOF-WAS-01: OutOfMemoryError",
        "lines": ["java.lang.OutOfMemoryError: Java heap space", "\tat a.b.C.d(C.java:1)"],
        "pattern": "OutOfMemoryError",
        "path": "/opt/tomcat/logs/catalina.out",
        "occurred_at": "2026-05-23T19:00:00.000Z",
        "folded": 3,
    },
    "EVENT_ACK": {"event_id": "e1"},
}


def test_every_type_has_an_example() -> None:
    assert set(EXAMPLES) == set(ALL_TYPES)


@pytest.mark.parametrize("msg_type", sorted(EXAMPLES))
def test_round_trip(msg_type: str) -> None:
    frame = {"v": 1, "msg_type": msg_type, "message_id": "m1", **EXAMPLES[msg_type]}
    message = p.decode(orjson.dumps(frame))
    assert type(message) is ALL_TYPES[msg_type]
    again = p.decode(p.encode(message))
    assert again == message
    encoded = orjson.loads(p.encode(message))
    for key, value in EXAMPLES[msg_type].items():
        assert encoded[key] == (float(value) if key == "progress" else value)


@pytest.mark.parametrize("msg_type", sorted(k for k, v in EXAMPLES.items() if v))
def test_missing_required_field_is_a_bad_frame(msg_type: str) -> None:
    model = ALL_TYPES[msg_type]
    required = [
        name
        for name, field in model.model_fields.items()
        if field.is_required() and name != "msg_type"
    ]
    if not required:
        pytest.skip(f"{msg_type} has no required field")
    body = {k: v for k, v in EXAMPLES[msg_type].items() if k != required[0]}
    with pytest.raises(p.BadFrame) as info:
        p.decode(orjson.dumps({"msg_type": msg_type, "message_id": "m9", **body}))
    assert required[0] in info.value.message
    assert info.value.code == p.ErrorCode.BAD_FRAME
    assert info.value.ref == "m9"


MALFORMED: list[tuple[str, bytes | str, type[p.ProtocolError], str]] = [
    ("not JSON", b"{nope", p.BadJson, "not valid JSON"),
    ("not UTF-8", b"\xff\xfe{}", p.BadJson, "not valid JSON"),
    ("not an object: list", b"[1, 2]", p.BadJson, "JSON object"),
    ("not an object: string", b'"CHAT"', p.BadJson, "JSON object"),
    ("not an object: null", b"null", p.BadJson, "JSON object"),
    ("no msg_type", b'{"room_id": "ops"}', p.BadFrame, "msg_type"),
    ("msg_type not a string", b'{"msg_type": 7}', p.BadFrame, "msg_type"),
    ("unknown msg_type", b'{"msg_type": "SHUTDOWN"}', p.BadFrame, "unknown msg_type"),
    ("wrong version", b'{"v": 2, "msg_type": "PING"}', p.BadFrame, "version"),
    (
        "int as string",
        b'{"msg_type": "JOIN", "room_id": "r", "after_seq": "3"}',
        p.BadFrame,
        "after_seq",
    ),
    (
        "bool as int",
        b'{"msg_type": "JOIN", "room_id": "r", "after_seq": true}',
        p.BadFrame,
        "after_seq",
    ),
    (
        "string as list",
        b'{"msg_type": "HELLO", "session_id": "s", "user": "u", "roles": "admin",'
        b' "server_version": "1"}',
        p.BadFrame,
        "roles",
    ),
    ("room id with spaces", b'{"msg_type": "JOIN", "room_id": "a room"}', p.BadFrame, "room_id"),
    (
        "progress over 1",
        b'{"msg_type": "TASK_UPDATE", "task_id": "t", "status": "RUNNING", "progress": 1.5}',
        p.BadFrame,
        "progress",
    ),
    (
        "unknown status",
        b'{"msg_type": "TASK_FINISHED", "task_id": "t", "status": "DONE"}',
        p.BadFrame,
        "status",
    ),
    (
        "bad button style",
        b'{"msg_type": "CHAT", "room_id": "r", "content": "x",'
        b' "interactive_actions": [{"label": "x", "action_id": "a", "command_code": "C",'
        b' "style": "blink"}]}',
        p.BadFrame,
        "style",
    ),
    (
        "oversize",
        b'{"msg_type": "CHAT", "room_id": "r", "content": "' + b"x" * 2048 + b'"}',
        p.FrameTooLarge,
        "over the limit",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "error", "words"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_input_is_refused_with_its_class(
    case: str, data: bytes, error: type[p.ProtocolError], words: str
) -> None:
    with pytest.raises(error) as info:
        p.decode(data, max_bytes=1024)
    assert words in info.value.message


def test_endpoint_tables_refuse_the_other_sides_types() -> None:
    with pytest.raises(p.BadFrame, match="unknown msg_type 'TASK_ASSIGN'"):
        p.decode(b'{"msg_type": "TASK_ASSIGN"}', p.CHAT_CLIENT_TYPES)
    with pytest.raises(p.BadFrame, match="unknown msg_type 'CHAT'"):
        p.decode(b'{"msg_type": "CHAT", "room_id": "r", "content": "x"}', p.AGENT_CLIENT_TYPES)


def test_seed_single_interactive_action_becomes_a_list() -> None:
    message = p.decode(
        orjson.dumps(
            {"msg_type": "CHAT", "room_id": "r", "content": "x", "interactive_action": BUTTON}
        )
    )
    assert [b.action_id for b in message.interactive_actions] == ["a1"]


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    message = p.decode(b'{"msg_type": "PING", "new_optional_field": 1}')
    assert isinstance(message, p.Ping)


def test_hangul_is_encoded_as_utf8_text() -> None:
    frame = p.encode(p.Chat(room_id="r", content="재기동해줘"))
    assert isinstance(frame, str) and "재기동해줘" in frame
