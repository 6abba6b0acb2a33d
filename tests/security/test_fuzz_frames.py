"""Hypothesis over every client frame type, sent to the live /ws/chat and /ws/agent.

One hub per module. Frames start valid-ish (built from each model's fields, with values
that mean something to this hub: its rooms, its agent, `@guardia` commands) and are then
mutated: wrong types, huge and negative ints, unicode and lone surrogates, missing and extra
fields, another or no msg_type, and text that is not a JSON object at all. After each frame
a PING must get its PONG on the same socket, no frame in between may be an INTERNAL error,
and at the end the hub's log has no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from harness import Database, HubProcess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from test_hub_pipeline import CMDB
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from protocol import AGENT_CLIENT_TYPES, CHAT_CLIENT_TYPES

pytestmark = [pytest.mark.slow]

# 300 a frame kind in the default run; `./scripts/test --long` fuzzes with 2,000
EXAMPLES = int(os.environ.get("GUARDIA_FUZZ_EXAMPLES", "300"))
#: closes the hub may answer a frame with, and why that is right
EXPECTED_CLOSES = {4403: "an AGENT_HELLO naming another agent than its token's"}
#: the largest seq SQLite and PostgreSQL compare with; beyond it JOIN breaks (issue 17 item
#: 8, `test_join_after_seq_past_the_database_range_is_answered_cleanly`): the fuzzers stay
#: below it until that is fixed, so that they keep guarding everything else
SEQ_BOUND = 2**63 - 1

TASK_STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "APPROVED", "CANCELLED", "BOGUS"]
COMMANDS = [
    "@guardia ping",
    "@guardia 실험시스템 WAS 상태 확인해줘",
    "@guardia 실험시스템 디스크 확인해줘",
    "@guardia 취소 T0000",
    "@guardia ",
]

# -- strategies ---------------------------------------------------------------------------

texts = st.text(max_size=60) | st.sampled_from(["", " ", "\x00", "\ud800", "가" * 300, "'; --"])
ids = texts | st.uuids().map(lambda u: u.hex) | st.sampled_from(["lab-agent", "T" + "0" * 12])
huge_ints = st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(
    [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**64]
)
json_values = st.recursive(
    st.none() | st.booleans() | huge_ints | st.floats(allow_nan=True, allow_infinity=True) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
button = st.fixed_dictionaries(
    {"label": texts, "action_id": ids, "command_code": st.sampled_from(["APPROVE", "X"])}
)
result = st.fixed_dictionaries(
    {"node": ids, "action": ids, "ok": st.booleans()},
    optional={"exit_code": huge_ints, "summary": texts, "duration_ms": huge_ints},
)

#: valid values by field name, as a real peer would send them to this hub
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "v": st.just(1),
    "message_id": st.uuids().map(lambda u: u.hex),
    "timestamp": st.just("2026-01-01T00:00:00Z"),
    "room_id": st.sampled_from(["lab", "lab", "other", "zoo", "nope"]),
    "seq": st.integers(min_value=1, max_value=SEQ_BOUND),
    "sender": st.sampled_from(["root", "GUARDiA-Bot", "lab-agent"]),
    "sender_type": st.sampled_from(["HUMAN", "BOT", "AGENT", "SYSTEM"]),
    "content": st.sampled_from(COMMANDS)
    | st.text(max_size=80)
    | texts.map(lambda t: "@guardia " + t),
    "is_widget": st.booleans(),
    "interactive_actions": st.lists(button, max_size=2),
    "itsm_metadata": st.fixed_dictionaries(
        {}, optional={"itsm_ticket_id": st.text(max_size=20), "severity": st.just("HIGH")}
    ),
    "token": st.text(min_size=1, max_size=60),
    "after_seq": st.integers(min_value=0, max_value=SEQ_BOUND)
    | st.sampled_from([0, 2**31, 2**62, SEQ_BOUND]),
    "action_id": st.uuids().map(lambda u: u.hex) | st.text(min_size=1, max_size=40),
    "agent_id": st.just("lab-agent"),
    "version": st.text(max_size=10),
    "actions": st.lists(st.sampled_from(["RESTART_SERVICE", "HEALTH_CHECK"]), max_size=3),
    "nodes": st.lists(st.sampled_from(["LAB-WAS-01", "ZOO-WAS-01"]), max_size=3),
    "pending_results": st.lists(st.uuids().map(lambda u: u.hex), max_size=3),
    "task_id": st.sampled_from(["T" + "0" * 12]) | st.uuids().map(lambda u: u.hex),
    "status": st.sampled_from(TASK_STATUSES),
    "results": st.lists(result, max_size=2),
    "step": st.text(max_size=20),
    "node": st.sampled_from(["LAB-WAS-01", "X"]),
    "progress": st.floats(min_value=0.0, max_value=1.0),
    "message": st.text(max_size=40),
}
#: what a mutation writes over a field: anything JSON can carry, and some it cannot
NASTY = json_values | ids | huge_ints


@st.composite
def frames(draw: st.DrawFn, types: dict[str, type[BaseModel]]) -> str:
    """One frame's text: a valid frame of one type, then zero or more mutations."""
    shape = draw(st.sampled_from(["object"] * 8 + ["not-an-object", "broken-json"]))
    if shape == "not-an-object":
        return json.dumps(draw(json_values))
    msg_type = draw(st.sampled_from(sorted(types)))
    model = types[msg_type]
    fields = [f for f in model.model_fields if f != "msg_type"]
    required = [f for f in fields if model.model_fields[f].is_required()]
    optional = [f for f in fields if f not in required]
    chosen = required + draw(st.lists(st.sampled_from(optional), unique=True, max_size=4))
    frame: dict[str, Any] = {"v": 1, "msg_type": msg_type}
    for name in chosen:
        frame[name] = draw(PLAUSIBLE.get(name, json_values))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        mutation = draw(st.sampled_from(["wrong", "drop", "extra", "type", "version"]))
        if mutation == "wrong":
            frame[draw(st.sampled_from(fields))] = draw(NASTY)
        elif mutation == "drop" and len(frame) > 1:
            del frame[draw(st.sampled_from(sorted(frame)))]
        elif mutation == "extra":
            frame[draw(texts)] = draw(json_values)
        elif mutation == "type":
            frame["msg_type"] = draw(st.sampled_from(["", "chat", "TASK_ASSIGN", "HELLO"]) | texts)
        else:
            frame["v"] = draw(NASTY)
    text = json.dumps(frame)  # stdlib: big ints, NaN and lone surrogates pass through
    if shape == "broken-json":
        text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return text


# -- the live hub ---------------------------------------------------------------------------


class Peer:
    """A sync WebSocket to /ws/chat, in two rooms, that answers whether it still works."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.ws: ClientConnection | None = None
        self._sockets = contextlib.ExitStack()

    def _connect(self) -> ClientConnection:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self._sockets.enter_context(connect(self.url, additional_headers=headers))

    def open(self) -> ClientConnection:
        ws = self._connect()
        ws.recv(timeout=10)  # HELLO
        for room in ("lab", "other"):  # a member: CHAT and ACTION reach their handlers
            ws.send(json.dumps({"v": 1, "msg_type": "JOIN", "room_id": room}))
        self.ws = ws
        return ws

    def try_frame(self, text: str) -> None:
        """Send the frame, then a PING and a marker; the PONG must come before the marker.

        The marker is a frame of an unknown type whose ERROR names it (`ref`): a fuzzed PING
        gets a PONG of its own, so a PONG alone does not say the probe was answered.
        """
        ws = self.ws or self.open()
        marker = "probe-" + uuid.uuid4().hex
        try:
            ws.send(text)
            ws.send(json.dumps({"v": 1, "msg_type": "PING"}))
            ws.send(json.dumps({"v": 1, "msg_type": "PROBE", "message_id": marker}))
            ponged = False
            while True:
                frame = json.loads(ws.recv(timeout=10))
                if frame.get("ref") == marker:
                    assert ponged, f"no PONG before the marker after {text!r}"
                    return
                self._check(frame, text)
                ponged = ponged or frame.get("msg_type") == "PONG"
        except ConnectionClosed as closed:
            self.ws = None
            code = closed.rcvd.code if closed.rcvd is not None else None
            assert code in EXPECTED_CLOSES, f"the hub closed the socket ({code}) after {text!r}"
        except TimeoutError:
            raise AssertionError(f"no answer within 10 s after {text!r}") from None

    def _check(self, frame: dict[str, Any], sent: str) -> None:
        if frame.get("msg_type") == "ERROR" and frame.get("code") == "INTERNAL":
            raise AssertionError(f"INTERNAL after {sent!r}: {frame}")
        content = str(frame.get("content", ""))
        if frame.get("sender") == "GUARDiA-Bot" and (
            "internal error" in content or "내부 오류" in content
        ):
            raise AssertionError(f"the bot hit an internal error after {sent!r}: {content}")

    def close(self) -> None:
        self._sockets.close()
        self.ws = None


#: one socket per endpoint for the whole module, reopened only after an expected close
peers: dict[str, Peer] = {}


@pytest.fixture(scope="module")
def fuzz_hub(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[HubProcess, dict[str, str]]]:
    workdir = tmp_path_factory.mktemp("fuzz")
    db = Database(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")

    async def seed() -> dict[str, str]:
        await db.import_cmdb(CMDB)
        await db.add_room("lab")
        await db.add_room("other")
        await db.add_room("zoo", "ZOO")
        return {
            "root": await db.add_user("root", "admin"),
            "agent": await db.add_agent("lab-agent"),
        }

    tokens = asyncio.run(seed())
    (workdir / "hub").mkdir()
    hub = HubProcess(
        db,
        workdir / "hub",
        GUARDIA_RATE_PER_SECOND="1000000",
        GUARDIA_RATE_BURST="1000000",
        GUARDIA_AGENT_RATE_PER_SECOND="1000000",
        GUARDIA_AGENT_RATE_BURST="1000000",
    )
    asyncio.run(hub.start())
    yield hub, tokens
    for peer in peers.values():  # the hub waits for open sockets when it stops
        peer.close()
    peers.clear()
    hub.stop()


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ_SETTINGS
@given(text=frames(CHAT_CLIENT_TYPES))
def test_chat_frames_never_crash_the_hub_or_the_socket(
    fuzz_hub: tuple[HubProcess, dict[str, str]], text: str
) -> None:
    hub, tokens = fuzz_hub
    peer = peers.setdefault("chat", Peer(hub.ws + "/ws/chat", tokens["root"]))
    peer.try_frame(text)


@FUZZ_SETTINGS
@given(text=frames(AGENT_CLIENT_TYPES))
def test_agent_frames_never_crash_the_hub_or_the_socket(
    fuzz_hub: tuple[HubProcess, dict[str, str]], text: str
) -> None:
    hub, tokens = fuzz_hub
    peer = peers.setdefault("agent", AgentPeer(hub.ws + "/ws/agent", tokens["agent"]))
    peer.try_frame(text)


class AgentPeer(Peer):
    """The same on /ws/agent, as the lab's agent: AGENT_HELLO first, then fuzz."""

    HELLO = json.dumps({"v": 1, "msg_type": "AGENT_HELLO", "agent_id": "lab-agent", "version": "f"})

    def open(self) -> ClientConnection:
        ws = self._connect()
        ws.send(self.HELLO)
        while json.loads(ws.recv(timeout=10)).get("msg_type") != "WELCOME":
            pass
        self.ws = ws
        return ws


def test_the_fuzzers_reached_the_handlers(fuzz_hub: tuple[HubProcess, dict[str, str]]) -> None:
    """Not all frames bounced off validation: the hub stored fuzzed chat lines."""
    hub, tokens = fuzz_hub
    peer = Peer(hub.ws + "/ws/chat", tokens["root"])
    ws = peer.open()
    ws.send(json.dumps({"v": 1, "msg_type": "JOIN", "room_id": "lab", "after_seq": 0}))
    frames_seen = []
    try:
        while True:
            frames_seen.append(json.loads(ws.recv(timeout=2)))
    except TimeoutError:
        pass
    finally:
        peer.close()
    assert any(f.get("msg_type") == "CHAT" for f in frames_seen)


def test_the_hub_logged_no_traceback(fuzz_hub: tuple[HubProcess, dict[str, str]]) -> None:
    """After both fuzzers (this module's tests run in file order): nothing blew up inside."""
    hub, _ = fuzz_hub
    assert "Traceback" not in hub.log(), hub.log()[-4000:]


# 17.8: the protocol bounds after_seq; the replay must never leave the room stuck
def test_join_after_seq_past_the_database_range_is_answered_cleanly(
    fuzz_hub: tuple[HubProcess, dict[str, str]],
) -> None:
    hub, tokens = fuzz_hub
    peer = Peer(hub.ws + "/ws/chat", tokens["root"])
    ws = peer.open()
    try:
        # out of the protocol's range: refused as a bad frame; at its top: joined, nothing to
        # replay; either way the socket's live frames keep coming
        ws.send(json.dumps({"v": 1, "msg_type": "JOIN", "room_id": "other", "after_seq": 2**63}))
        ws.send(
            json.dumps({"v": 1, "msg_type": "JOIN", "room_id": "other", "after_seq": 2**53 - 1})
        )
        ws.send(json.dumps({"v": 1, "msg_type": "CHAT", "room_id": "other", "content": "after"}))
        seen = []
        with contextlib.suppress(TimeoutError):
            while not any(f.get("content") == "after" for f in seen):
                seen.append(json.loads(ws.recv(timeout=3)))
    finally:
        peer.close()
    assert not [f for f in seen if f.get("code") == "INTERNAL"], seen
    assert any(f.get("content") == "after" for f in seen), "live frames of the room stopped"
