"""The ALERT frame built from an incident's stored state (pure: no hub)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cmdb.tables import Incident
from hub.intake.cards import alert_frame
from hub.intake.memory import similar_words
from protocol import decode, encode

BUTTONS = [
    {
        "type": "BUTTON",
        "label": "서비스 상태 확인",
        "action_id": "A1",
        "command_code": "SERVICE_STATUS",
        "style": "primary",
    },
    {
        "type": "BUTTON",
        "label": "확인(Ack)",
        "action_id": "A2",
        "command_code": "ACK_ALERT",
        "style": "default",
    },
]


def incident(state: str, lang: str = "ko", **kw: object) -> Incident:
    at = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    fields: dict[str, object] = {
        "id": "I0123456789AB",
        "state": state,
        "severity": "CRITICAL",
        "kind": "service_down",
        "node": "MOF-WAS-01",
        "source": "alertmanager",
        "fingerprint": "am:x",
        "first_seen": at,
        "last_seen": at,
        "occurrences": 7,
        "title": "예산시스템 WAS 응답 없음",
        "summary": "probe failed",
        "room_id": "budget",
        "lang": lang,
        "actions": BUTTONS,
        **kw,
    }
    return Incident(**fields)


@pytest.mark.parametrize(
    ("state", "codes", "word"),
    [
        ("firing", ["SERVICE_STATUS", "ACK_ALERT"], "[장애]"),
        ("acknowledged", ["SERVICE_STATUS"], "[확인됨]"),
        ("resolved", [], "[해결]"),
    ],
)
def test_the_card_follows_the_incident_state(state: str, codes: list[str], word: str) -> None:
    frame = alert_frame(incident(state))
    assert frame.status == state
    assert [b.command_code for b in frame.interactive_actions] == codes
    assert frame.is_widget is bool(codes)
    assert frame.content.startswith(f"{word} MOF-WAS-01 예산시스템 WAS 응답 없음 · 7회")
    assert frame.itsm_metadata is not None and frame.itsm_metadata.severity == "CRITICAL"
    assert decode(encode(frame)) == frame  # a valid frame on the wire


def test_a_similar_incident_is_on_the_card_in_the_cards_language() -> None:
    similar = {
        "at": "2026-10-02T04:00:00Z",
        "asset_code": "MOF-WAS-02",
        "resolution": "MOF-WAS-02 재기동으로 해결",
        "alert_id": "I0123456789AB",
        "resolved_by": "task",
        "action": "RESTART_SERVICE",
        "node": "MOF-WAS-02",
    }
    frame = alert_frame(incident("firing", similar=similar))
    assert frame.similar is not None and frame.similar.asset_code == "MOF-WAS-02"
    assert frame.similar.action == "RESTART_SERVICE" and frame.similar.resolved_by == "task"
    assert frame.content.endswith("\n2026-10-02 같은 증상: MOF-WAS-02 재기동으로 해결")
    english = alert_frame(incident("firing", lang="en", similar=similar, title="TomcatDown"))
    assert english.content.startswith("[FIRING] MOF-WAS-01 TomcatDown · 7x")
    # worded from the fields, not from the earlier incident's Korean text
    assert english.content.endswith("\nSame symptom on 2026-10-02: fixed by restarting MOF-WAS-02")
    assert decode(encode(english)) == english


@pytest.mark.parametrize(
    ("similar", "ko", "en"),
    [
        ({"resolved_by": "alert", "resolution": "resolved when its alert cleared"},
         "2026-10-02 (MOF-WAS-02) 같은 증상: 알림 해제로 해결",
         "Same symptom on 2026-10-02 (MOF-WAS-02): resolved when its alert cleared"),
        ({"resolved_by": "task", "action": "SERVICE_STATUS", "node": "MOF-WAS-02",
          "resolution": "x"},
         "2026-10-02 같은 증상: MOF-WAS-02 상태 확인(정상)으로 해결",
         "Same symptom on 2026-10-02: resolved by a passing status check of MOF-WAS-02"),
        # from a newer hub: an action this one cannot word, so the text it came with
        ({"resolved_by": "task", "action": "REBOOT_NODE", "resolution": "MOF-WAS-02 재부팅"},
         "2026-10-02 (MOF-WAS-02) 같은 증상: MOF-WAS-02 재부팅",
         "Same symptom on 2026-10-02 (MOF-WAS-02): MOF-WAS-02 재부팅"),
    ],
)  # fmt: skip
def test_how_an_earlier_incident_ended_is_worded_from_its_fields(
    similar: dict[str, str], ko: str, en: str
) -> None:
    fields = {"at": "2026-10-02T04:00:00Z", "asset_code": "MOF-WAS-02", **similar}
    assert similar_words(fields, "ko") == ko
    assert similar_words(fields, "en") == en


def test_a_card_on_no_node() -> None:
    frame = alert_frame(incident("firing", node=None, actions=BUTTONS[1:]))
    assert frame.asset_code is None
    assert frame.content.startswith("[장애] 예산시스템")
