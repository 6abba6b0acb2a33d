"""Room frames to lane messages, and Slack/Mattermost payloads to lines: pure, no sockets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from slack_sdk.signature import SignatureVerifier

from hub.bridges import slack_format
from hub.bridges.lanes import LANE_KINDS, lane_of
from hub.bridges.mattermost_events import parse_line, token_ok
from hub.bridges.mattermost_format import ContextSigner, MattermostFormat
from hub.bridges.messenger_format import as_jandi, as_json
from hub.bridges.slack_events import parse_event, parse_press, plain_text
from hub.bridges.translation import Card, Translation, translate
from protocol import (
    ApprovalRequest,
    Button,
    Chat,
    CommandPlan,
    Message,
    TaskFinished,
    TaskResult,
    TaskUpdate,
)

SLACK = LANE_KINDS["slack"]
CALLBACK = LANE_KINDS["messenger"]
LANE = "slack:C1"


class MockClock:
    def now(self) -> float:
        return 1531420618


def test_slack_sdk_official_test_vector_verifies() -> None:
    # slackapi/python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
        "&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
        "%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    verifier = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5", clock=MockClock())
    assert verifier.is_valid(body.encode(), "1531420618", signature)
    assert not verifier.is_valid(body.encode() + b"-", "1531420618", signature)
    # the same request six minutes later is outside the 5-minute window
    late = type("Late", (), {"now": lambda self: 1531420618 + 360})()
    assert not SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5", clock=late).is_valid(
        body.encode(), "1531420618", signature
    )


def run(frames: list[Message], lane: str = LANE, kind: Any = SLACK) -> list[Translation]:
    cards: dict[str, Card] = {}
    out = []
    for frame in frames:
        done = translate(frame, lane, kind, cards)
        cards.update(done.cards)
        out.append(done)
    return out


def plan_frames(requires_approval: bool = False) -> list[Message]:
    cancel = Button(label="취소", action_id="Acancel", command_code="CANCEL_TASK", style="danger")
    return [
        CommandPlan(
            room_id="lab",
            task_id="T1",
            plan={},
            requires_approval=requires_approval,
            content="[T1] 실험시스템 WAS 상태 확인",
            interactive_actions=[cancel],
        )
    ]


def test_a_task_is_one_card_updated_in_place_to_its_result() -> None:
    frames = [
        *plan_frames(),
        TaskUpdate(room_id="lab", task_id="T1", status="RUNNING"),
        TaskUpdate(
            room_id="lab",
            task_id="T1",
            status="RUNNING",
            step="HEALTH_CHECK",
            node="N1",
            progress=0.5,
        ),
        TaskFinished(
            room_id="lab",
            task_id="T1",
            status="SUCCEEDED",
            content="작업 T1 SUCCEEDED: 1/1 성공",
            results=[TaskResult(node="N1", action="HEALTH_CHECK", ok=True, summary="up")],
        ),
    ]
    out = run(frames)
    items = [item for t in out for item in t.outgoing]
    assert {item.op for item in items} == {"card"}
    assert {item.card for item in items} == {"T1:plan"}
    last = items[-1].body
    assert last["status"] == "SUCCEEDED" and last["buttons"] == []
    assert last["results"] == [
        {"node": "N1", "action": "HEALTH_CHECK", "ok": True, "summary": "up"}
    ]
    assert out[2].outgoing[0].body["note"] == "HEALTH_CHECK · N1 · 50%"
    _text, blocks = slack_format.card(last)
    assert "성공" in orjson.dumps(blocks).decode() and not any(
        b["type"] == "actions" for b in blocks
    )


def test_an_approval_is_its_own_card_whose_buttons_go_when_decided() -> None:
    approve = Button(label="승인", action_id="Aok", command_code="APPROVE", style="primary")
    frames = [
        *plan_frames(requires_approval=True),
        ApprovalRequest(
            room_id="lab",
            task_id="T1",
            requested_by="olive",
            plan={},
            expires_at="2030-01-01T00:00:00Z",
            content="olive님의 운영 변경 요청 T1",
            interactive_actions=[approve],
        ),
        TaskUpdate(room_id="lab", task_id="T1", status="APPROVED", message="approved by amy"),
    ]
    out = run(frames)
    approval = out[1].cards["T1:approval"]
    _, blocks = slack_format.card(approval)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["elements"][0]["value"] == "Aok"  # the hub's opaque action_id
    decided = out[2].cards["T1:approval"]
    assert decided["buttons"] == [] and decided["status"] == "APPROVED"


def test_a_line_is_not_echoed_to_where_it_came_from_but_goes_elsewhere() -> None:
    line = Chat(room_id="lab", content="hi", sender="oscar", sender_type="HUMAN", via=LANE)
    assert run([line])[0].outgoing == []
    [item] = run([line], lane="mattermost:M1", kind=LANE_KINDS["mattermost"])[0].outgoing
    text, _ = slack_format.post(item.body)
    assert item.op == "post" and item.body["via"] == LANE
    web = Chat(room_id="lab", content="a <b> & c", sender="root", sender_type="HUMAN")
    text, _ = slack_format.post(run([web])[0].outgoing[0].body)
    assert text == "*root*: a &lt;b&gt; &amp; c"


def test_a_callback_gets_a_post_per_plan_and_result_and_no_peoples_chat() -> None:
    frames = [
        *plan_frames(),
        TaskUpdate(room_id="lab", task_id="T1", status="RUNNING"),
        TaskFinished(room_id="lab", task_id="T1", status="FAILED", content="작업 T1 FAILED"),
        Chat(room_id="lab", content="hello", sender="root", sender_type="HUMAN"),
    ]
    items = [item for t in run(frames, "messenger:jandi", CALLBACK) for item in t.outgoing]
    assert [i.body["event"] for i in items] == ["COMMAND_PLAN", "TASK_FINISHED"]
    assert as_json(items[0].body)["sr_id"] == "T1"
    assert as_json(items[0].body)["status"] == "IN_PROGRESS"
    jandi = as_jandi(items[1].body)
    assert jandi["body"].startswith("[GUARDiA]") and jandi["connectInfo"][0]["title"] == "T1"
    assert jandi["connectColor"] == "#E01E5A"


def event(kind: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "event_id": "Ev1",
        "authorizations": [{"user_id": "UBOT", "is_bot": True}],
        "event": {"type": kind, "channel": "C1", "user": "U1", "ts": "1.0", "text": text, **extra},
    }


@pytest.mark.parametrize(
    ("payload", "content", "command"),
    [
        (event("app_mention", "<@UBOT> 상태 확인해줘"), "@guardia 상태 확인해줘", "상태 확인해줘"),
        (event("message", "<@UBOT>, status &amp; more"), "@guardia status & more", "status & more"),
        (event("message", "just talking <@U2>"), "just talking @U2", None),
        (event("message", "@guardia ping"), "@guardia ping", "ping"),
        (event("message", "hey <@UBOT> 상태 확인"), "@guardia hey 상태 확인", "hey 상태 확인"),
        (event("app_mention", "hey <@UBOT>, ping"), "@guardia hey ping", "hey ping"),
    ],
)
def test_slack_lines_and_commands(
    payload: dict[str, Any], content: str, command: str | None
) -> None:
    line = parse_event(payload)
    assert line is not None
    assert (line.content, line.command) == (content, command)


@pytest.mark.parametrize(
    "payload",
    [
        event("message", "ours", bot_id="B1"),
        event("message", "edited", subtype="message_changed"),
        event("reaction_added", "x"),
        {"type": "event_callback", "event_id": "Ev1", "event": {"type": "message"}},
    ],
)
def test_slack_events_that_are_not_lines(payload: dict[str, Any]) -> None:
    assert parse_event(payload) is None


def test_slack_press_and_markup() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "mallory-says-she-is-root"},
        "channel": {"id": "C1"},
        "message": {"text": "승인 요청"},
        "actions": [{"action_id": "x", "value": "Aok", "type": "button"}],
    }
    press = parse_press(urlencode({"payload": orjson.dumps(payload).decode()}).encode())
    assert press is not None and (press.user, press.action_ids, press.lang) == ("U1", ["Aok"], "ko")
    with pytest.raises(ValueError):
        parse_press(b"nothing=here")
    assert plain_text("see <https://x.example|the doc> &lt;now&gt;") == "see the doc <now>"


def test_mattermost_contexts_are_signed_per_channel() -> None:
    signer = ContextSigner(b"k" * 32)
    fmt = MattermostFormat(signer, "https://guardia.example/api/mattermost/actions")
    body = {"text": "pong", "sender": "GUARDiA-Bot", "sender_type": "BOT", "buttons": [
        {"label": "디스크 확인", "action_id": "Adisk", "style": "primary", "code": "CHECK_DISK_SPACE"}
    ]}  # fmt: skip
    [action] = fmt.post("M1", body)["props"]["attachments"][0]["actions"]
    context = action["integration"]["context"]
    assert action["id"].isalnum()
    assert signer.verify(context, "M1") == "Adisk"
    assert signer.verify(context, "M2") is None  # signed for another channel
    assert signer.verify({**context, "action_id": "Aother"}, "M1") is None
    assert signer.verify({**context, "sig": "0" * 64}, "M1") is None
    assert signer.verify("not a dict", "M1") is None
    assert ContextSigner(b"j" * 32).verify(context, "M1") is None  # another hub's key


def test_mattermost_lines_and_tokens() -> None:
    hook = {
        "token": "t",
        "channel_id": "M1",
        "user_id": "u1",
        "post_id": "p1",
        "text": "@guardia ping",
    }
    line = parse_line(hook)
    assert line is not None and (line.command, line.slash, line.event_key) == ("ping", False, "p1")
    slash = {
        "command": "/guardia",
        "channel_id": "M1",
        "user_id": "u1",
        "text": "ping",
        "trigger_id": "t1",
    }
    line = parse_line(slash)
    assert line is not None and (line.content, line.command, line.slash) == (
        "@guardia ping",
        "ping",
        True,
    )
    assert parse_line({"channel_id": "M1", "text": "x"}) is None
    assert token_ok("t", frozenset({"s", "t"})) and not token_ok("u", frozenset({"t"}))
    assert not token_ok(None, frozenset({"t"}))


@pytest.mark.parametrize("bad", [("irc", "C1"), ("slack", ""), ("slack", "a:b"), ("slack", " C1")])
def test_lane_names_are_checked(bad: tuple[str, str]) -> None:
    with pytest.raises(ValueError):
        lane_of(*bad)


def test_mattermost_answers_sorted_into_wait_or_drop() -> None:
    import httpx

    from hub.bridges.exceptions import RetryLater, Undeliverable
    from hub.bridges.senders import MattermostSender, retry_after

    MattermostSender._check(httpx.Response(201))
    with pytest.raises(RetryLater) as limited:
        MattermostSender._check(httpx.Response(429, headers={"X-RateLimit-Reset": "3"}))
    assert limited.value.after == 3.0
    with pytest.raises(RetryLater) as down:
        MattermostSender._check(httpx.Response(503))
    assert down.value.after is None  # the lane's backoff
    with pytest.raises(Undeliverable):
        MattermostSender._check(httpx.Response(400, text="bad props"))
    assert retry_after({"Retry-After": "2"}) == 2.0 and retry_after({"Retry-After": "soon"}) is None
