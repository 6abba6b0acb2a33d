"""The web app's rendering of frames and fields the hub does not send yet, in Chromium:
result `data` (disk rows, lock waits, service states) in either language, ALERT cards
updated in place (issue 11), BUTTON_STATE (issue 15.6) and thumbs up/down (issue 10).

The hub and agent are real (sign-in, rooms, buttons); frames the hub cannot send yet are
handed to the page's app as if they had arrived (Person.inject), since the app's handling of
them is what is under test. Each injection takes the next seq of its room, so a test does not
expect live frames in that room afterwards. The test marked xfail is the end-to-end version
that must pass once the hub sends BUTTON_STATE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from browser_support import (  # noqa: F401  (fixtures)
    Person,
    WebLab,
    browser,
    sign_in,
    web_lab,
)
from playwright.async_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

DISK = {
    "threshold": 90,
    "filesystems": [
        {"mount": "/", "device": "/dev/sda1", "size_kb": 51474912, "used_kb": 30000000,
         "avail_kb": 21474912, "use_percent": 58},
        {"mount": "/var/log", "device": "/dev/mapper/vg-log", "size_kb": 10485760,
         "used_kb": 9961472, "avail_kb": 524288, "use_percent": 95},
    ],
}  # fmt: skip
LOCKS = {
    "kind": "postgresql",
    "waits": [
        {"blocked_pid": 4242, "blocked_user": "app", "blocking_pid": 4100, "blocking_user": "batch",
         "database": "budget", "wait_seconds": 73.4, "wait_event": "Lock:transactionid",
         "blocked_query": "UPDATE budget_line SET amount = amount + $1 WHERE id = $2",
         "blocking_query": "UPDATE budget_line SET status = 'closed' WHERE fiscal_year = 2026"},
        {"blocked_pid": 4243, "blocked_user": "app", "blocking_pid": 4100, "blocking_user": "batch",
         "database": "budget", "wait_seconds": 12, "wait_event": "Lock:transactionid",
         "blocked_query": "SELECT 1 FOR UPDATE", "blocking_query": "UPDATE budget_line SET ..."},
    ],
}  # fmt: skip
SHA = "9f" * 32

# action, data, what a Korean reader reads, what an English reader reads
FACTS: list[tuple[str, Any, str, str]] = [
    ("CHECK_DISK_SPACE", DISK, "파일 시스템 2개 중 1개가 90% 이상", "2 file systems, 1 at or over 90%"),
    ("CHECK_DISK_SPACE", {"threshold": 80, "filesystems": DISK["filesystems"][:1]},
     "파일 시스템 1개, 80% 이상 없음", "1 file system, none at or over 80%"),
    ("FETCH_DB_LOCKS", {"kind": "postgresql", "waits": []},
     "락을 기다리는 세션이 없습니다 (postgresql).", "No sessions are waiting on a lock (postgresql)."),
    ("FETCH_DB_LOCKS", LOCKS, "락 대기 세션 2개 (postgresql), 최장 73.4초",
     "2 sessions waiting on a lock (postgresql), longest 73.4 s"),
    ("SERVICE_STATUS", {"service": "tomcat", "state": "active", "healthy": True},
     "tomcat: 정상 (상태 active)", "tomcat: healthy (state active)"),
    ("SERVICE_STATUS", {"service": "tomcat", "state": "failed", "healthy": False},
     "tomcat: 비정상 (상태 failed)", "tomcat: not healthy (state failed)"),
    ("HEALTH_CHECK", {"service": "tomcat", "url": "http://127.0.0.1:8080/health",
                      "status_code": 200, "healthy": True, "attempts": 3},
     "tomcat: 정상 · HTTP 200 · 3회 시도", "tomcat: healthy · HTTP 200 · 3 attempts"),
    ("HEALTH_CHECK", {"service": "tomcat", "url": None, "status_code": 503, "healthy": False,
                      "attempts": 1}, "tomcat: 비정상 · HTTP 503", "tomcat: not healthy · HTTP 503"),
    ("RESTART_SERVICE", {"service": "tomcat", "restarted": True}, "tomcat 재기동 완료",
     "tomcat restarted"),
    ("TAIL_LOG", {"path": "/var/log/app.log", "lines": 40}, "/var/log/app.log 마지막 40줄",
     "Last 40 lines of /var/log/app.log"),
    ("DEPLOY_ARTIFACT", {"filename": "budget.war", "sha256": SHA, "size": 3 * 1024 * 1024,
                         "path": "/srv/deploy", "rolled_back": False},
     "budget.war (3.0 MiB) → /srv/deploy 배포 완료", "budget.war (3.0 MiB) deployed to /srv/deploy"),
    ("DEPLOY_ARTIFACT", {"filename": "budget.war", "sha256": SHA, "size": 10, "path": "/srv",
                         "rolled_back": True},
     "budget.war 배포 실패, 이전 버전으로 되돌렸습니다",
     "budget.war failed and the previous version was put back"),
    ("ROLLBACK_DEPLOY", {"filename": "budget.war", "restored": True},
     "budget.war: 이전 버전 복원 완료", "budget.war: previous version restored"),
    # shapes the app does not know keep the agent's own words
    ("CHECK_DISK_SPACE", {"filesystems": "oops"}, "agent words", "agent words"),
    ("FETCH_DB_LOCKS", {"waits": [1, 2]}, "agent words", "agent words"),
    ("SERVICE_STATUS", {"service": "tomcat"}, "agent words", "agent words"),
    ("NOT_AN_ACTION", {"x": 1}, "agent words", "agent words"),
    ("HEALTH_CHECK", None, "agent words", "agent words"),
]  # fmt: skip

FACTS_OF = """async ([action, data, lang]) => {
    const i18n = await import("/js/i18n.js");
    const { resultFacts } = await import("/js/result_data.js");
    i18n.setLang(lang);
    return resultFacts({ node: "N", action, ok: true, summary: "agent words", data }).summary;
}"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def reader(browser: Browser, web_lab: WebLab) -> AsyncIterator[Person]:  # noqa: F811
    """One signed-in page for the table below (it only calls the app's modules)."""
    person = await sign_in(browser, web_lab, "dave", room="ops", locale="ko-KR")
    yield person
    person.assert_no_errors()
    await person.close()


@pytest.mark.parametrize(("action", "data", "ko", "en"), FACTS, ids=lambda v: str(v)[:24])
async def test_a_results_data_reads_in_korean_and_in_english(
    reader: Person, action: str, data: Any, ko: str, en: str
) -> None:
    assert await reader.page.evaluate(FACTS_OF, [action, data, "ko"]) == ko
    assert await reader.page.evaluate(FACTS_OF, [action, data, "en"]) == en


def finished(task_id: str, *results: dict[str, Any]) -> dict[str, Any]:
    return {
        "msg_type": "TASK_FINISHED",
        "room_id": "budget",
        "task_id": task_id,
        "status": "SUCCEEDED",
        "sender_type": "SYSTEM",
        "content": f"작업 {task_id} SUCCEEDED",
        "results": list(results),
    }


async def test_disk_rows_over_the_threshold_stand_out_and_lock_waits_list_their_queries(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    bob = await sign_in(browser, web_lab, "bob", room="budget", locale="ko-KR")
    await bob.inject(
        finished(
            "TDATA00000001",
            # the agent's order: the card lists nodes by name when there is no plan
            {"node": "MOF-WAS-01", "action": "CHECK_DISK_SPACE", "ok": True, "duration_ms": 40,
             "summary": "2 file systems, 1 at or over 90%", "data": DISK},
            {"node": "MOF-DB-01", "action": "FETCH_DB_LOCKS", "ok": True, "duration_ms": 120,
             "summary": "2 lock waits", "data": LOCKS},
        )
    )  # fmt: skip
    result = bob.timeline("budget").locator('.card[data-task="TDATA00000001"]')
    await expect(result.locator(".result-node-name")).to_have_text(["MOF-DB-01", "MOF-WAS-01"])
    disk = result.locator(".disk-table")
    await expect(disk.locator("th")).to_have_text(
        ["마운트", "장치", "크기", "사용", "남음", "사용률"]
    )
    await expect(disk.locator("tbody tr")).to_have_count(2)
    await expect(disk.locator("tr.is-full")).to_have_attribute("data-mount", "/var/log")
    await expect(disk.locator("tr.is-full .percent")).to_have_text("95%")
    await expect(disk.locator('tr[data-mount="/"]')).not_to_have_class("is-full")
    locks = result.locator(".lock-detail")
    await expect(locks.locator(".lock-row")).to_have_count(2)
    await expect(locks.locator(".query code").first).to_have_text(
        LOCKS["waits"][0]["blocked_query"]
    )
    await expect(result.locator('.result-row[data-structured="true"]')).to_have_count(2)

    await bob.page.click(".sidebar [data-lang-toggle]")  # the same card, in English
    await expect(disk.locator("th")).to_have_text(
        ["Mount", "Device", "Size", "Used", "Free", "Use"]
    )
    await expect(
        result.locator('.result-row[data-action="FETCH_DB_LOCKS"] .result-summary')
    ).to_have_text("2 sessions waiting on a lock (postgresql), longest 73.4 s")
    await expect(result.locator(".pill")).to_have_text("Succeeded")
    bob.assert_no_errors()
    await bob.close()


def alert(alert_id: str, status: str, occurrences: int, **extra: Any) -> dict[str, Any]:
    buttons = [
        {"type": "BUTTON", "label": "상태", "action_id": f"{alert_id}-status",
         "command_code": "SERVICE_STATUS", "style": "primary"},
        {"type": "BUTTON", "label": "재기동", "action_id": f"{alert_id}-restart",
         "command_code": "RESTART_SERVICE", "style": "danger"},
        {"type": "BUTTON", "label": "확인", "action_id": f"{alert_id}-ack",
         "command_code": "ACK_ALERT", "style": "default"},
    ]  # fmt: skip
    return {
        "msg_type": "ALERT",
        "room_id": "budget",
        "alert_id": alert_id,
        "status": status,
        "severity": "HIGH",
        "title": "HighErrorRate MOF-WAS-01",
        "summary": "5xx ratio 12% over 5 min",
        "asset_code": "MOF-WAS-01",
        "source": "alertmanager",
        "occurrences": occurrences,
        "first_seen": "2026-12-01T09:00:00Z",
        "last_seen": f"2026-12-01T09:{occurrences:02d}:00Z",
        "interactive_actions": buttons,
        **extra,
    }


async def test_an_alert_is_one_card_that_later_alerts_of_the_same_id_update_in_place(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")
    similar = {
        "at": "2026-11-03T10:00:00Z",
        "asset_code": "MOF-WAS-02",
        "resolution": "MOF-WAS-02 재기동으로 해결",
        "resolved_by": "task",
        "action": "RESTART_SERVICE",
        "node": "MOF-WAS-02",
    }
    [first] = await carol.inject(alert("INC-1", "firing", 1, similar=similar))
    cards = carol.timeline("budget").locator('.card-alert[data-alert="INC-1"]')
    await expect(cards).to_have_count(1)
    await expect(cards.locator(".pill")).to_have_text("Firing")
    await expect(cards.locator(".badge")).to_have_text("High")
    await expect(cards.locator(".alert-similar")).to_have_text(
        "Same symptom on 03/11/2026: fixed by restarting MOF-WAS-02"
    )
    await expect(cards.locator("button .btn-label")).to_have_text(
        ["Check service status", "Restart", "Acknowledge"]
    )
    await carol.inject(chat("meanwhile, in the room"))
    await carol.inject(alert("INC-1", "acknowledged", 7, acknowledged_by="bob"))
    await expect(cards).to_have_count(1)
    await expect(cards.locator(".pill")).to_have_text("Acknowledged")
    await expect(cards.locator(".alert-count")).to_have_text("7 times")
    ack = cards.locator("button[data-code=ACK_ALERT]")
    await expect(ack).to_be_disabled()
    await expect(ack.locator(".btn-state")).to_have_text("used · by bob")
    await expect(cards.locator("button[data-code=RESTART_SERVICE]")).to_be_enabled()
    # the card stays where the incident began, above the chat line that came after it
    item = carol.timeline("budget").locator('article[data-type="ALERT"]')
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-seq", str(first))

    cause = {
        "ko": "힙 메모리 부족으로 보입니다.",
        "en": "The heap seems too small.",
        "source": "llm",
    }
    await carol.inject(alert("INC-1", "resolved", 9, similar=similar, probable_cause=cause))
    await expect(cards.locator(".alert-cause")).to_have_text(
        "Probable cause (LLM, to be checked): The heap seems too small."
    )
    await expect(cards.locator(".pill")).to_have_text("Resolved")
    await expect(cards.locator("button[data-code=RESTART_SERVICE]")).to_have_attribute(
        "data-state", "closed"
    )
    await expect(cards.locator("button[data-code=SERVICE_STATUS]")).to_be_enabled()
    # drawn again from the store, as after a replay or an earlier page: still one, the latest
    await carol.page.click(".sidebar [data-lang-toggle]")
    await expect(cards).to_have_count(1)
    await expect(cards.locator(".pill")).to_have_text("해결됨")
    await expect(cards.locator(".alert-count")).to_have_text("9회")
    await expect(cards.locator(".alert-similar")).to_have_text(
        "2026. 11. 03. 같은 증상: MOF-WAS-02 재기동으로 해결"
    )
    await expect(cards.locator(".alert-cause")).to_have_text(
        "추정 원인 (LLM, 확인 필요): 힙 메모리 부족으로 보입니다."
    )

    # frames out of order (a history page after live ones): the newest state wins anyway
    seq = await carol.page.evaluate("window.__guardia.store.room('budget').highest")
    await carol.inject(alert("INC-2", "acknowledged", 3, seq=seq + 2))
    await carol.inject(alert("INC-2", "firing", 1, seq=seq + 1))
    late = carol.timeline("budget").locator('.card-alert[data-alert="INC-2"]')
    await expect(late).to_have_count(1)
    await expect(late.locator(".pill")).to_have_text("확인됨")
    await expect(
        carol.timeline("budget").locator('article[data-type="ALERT"][data-alert="INC-2"]')
    ).to_have_attribute("data-seq", str(seq + 1))
    carol.assert_no_errors()
    await carol.close()


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"msg_type": "CHAT", "room_id": "budget", "content": text, **extra}


async def ping_button(person: Person) -> str:
    """The CHECK_DISK_SPACE button of a fresh ping in budget: its action_id."""
    before = await person.timeline("budget").locator("button[data-code=CHECK_DISK_SPACE]").count()
    await person.say("@guardia ping")
    buttons = person.timeline("budget").locator("button[data-code=CHECK_DISK_SPACE]")
    await expect(buttons).to_have_count(before + 1)
    action_id = await buttons.last.get_attribute("data-action-id")
    assert action_id
    return action_id


async def test_button_state_shows_a_button_used_and_by_whom(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget", locale="ko-KR")
    action_id = await ping_button(alice)
    button = alice.timeline("budget").locator(f'button[data-action-id="{action_id}"]')
    await expect(button.locator(".btn-label")).to_have_text("디스크 확인")  # by command_code
    await expect(button).to_be_enabled()
    frame = {"msg_type": "BUTTON_STATE", "room_id": "budget", "sender_type": "SYSTEM",
             "action_ids": [action_id], "state": "USED", "by": "carol"}  # fmt: skip
    await alice.inject(frame)
    await expect(button).to_be_disabled()
    await expect(button).to_have_attribute("data-state", "used")
    await expect(button.locator(".btn-state")).to_have_text("처리됨 · carol")
    await alice.inject({**frame, "action_ids": ["A-not-here"], "state": "EXPIRED", "by": None})
    # before its card: a history page can bring the state first
    await alice.inject(
        {**frame, "action_ids": ["A-later"], "state": "EXPIRED", "by": None},
        {
            "msg_type": "CHAT",
            "room_id": "budget",
            "content": "pong",
            "is_widget": True,
            "interactive_actions": [
                {
                    "type": "BUTTON",
                    "label": "x",
                    "action_id": "A-later",
                    "command_code": "CHECK_DISK_SPACE",
                    "style": "primary",
                }
            ],
        },
    )
    later = alice.timeline("budget").locator('button[data-action-id="A-later"]')
    await expect(later).to_have_attribute("data-state", "expired")
    await expect(later).to_be_disabled()
    assert not alice.sent_of("ACTION")
    alice.assert_no_errors()
    await alice.close()


async def test_a_button_pressed_before_someone_signs_in_is_shown_used_to_them(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget", locale="ko-KR")
    action_id = await ping_button(alice)
    await alice.timeline("budget").locator(f'button[data-action-id="{action_id}"]').click()
    await expect(alice.timeline("budget").locator('.card[data-kind="result"]').last).to_have_count(
        1
    )
    await alice.close()
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")
    button = carol.timeline("budget").locator(f'button[data-action-id="{action_id}"]')
    try:
        await expect(button).to_have_attribute("data-state", "used", timeout=5_000)
        await expect(button.locator(".btn-state")).to_have_text("used · by alice")
    finally:
        await carol.close()


async def test_thumbs_are_stored_and_come_back_on_another_device(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget", locale="ko-KR")
    await alice.say("@guardia 예산시스템 WAS 상태 확인해줘")
    result = alice.timeline("budget").locator('.card[data-kind="result"]').last
    await expect(result).to_have_attribute("data-status", "SUCCEEDED")
    target = await result.locator(".feedback").get_attribute("data-target")
    assert target
    # this card from now on, whatever cards other tasks add after it
    thumbs = alice.timeline("budget").locator(f'.feedback[data-target="{target}"]')
    await thumbs.locator('button[data-helpful="up"]').click()
    await expect(thumbs).to_have_attribute("data-chosen", "up")
    await expect(thumbs.locator('button[data-helpful="up"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    await thumbs.locator('button[data-helpful="down"]').click()
    await expect(thumbs).to_have_attribute("data-chosen", "down")
    sent = alice.sent_of("FEEDBACK")
    assert [(f["room_id"], f["target_message_id"], f["helpful"]) for f in sent] == [
        ("budget", target, True),
        ("budget", target, False),
    ]
    await alice.page.wait_for_timeout(500)
    await expect(alice.page.locator("#notice")).to_be_hidden()
    await expect(thumbs.locator(".feedback-thanks")).to_have_text("의견 감사합니다")
    plan = alice.timeline("budget").locator('.card[data-kind="plan"]').last
    await expect(plan.locator(".feedback button")).to_have_count(2)
    plan_target = await plan.locator(".feedback").get_attribute("data-target")
    plan_thumbs = alice.timeline("budget").locator(f'.feedback[data-target="{plan_target}"]')
    await plan_thumbs.locator('button[data-helpful="up"]').click()
    await expect(plan_thumbs).to_have_attribute("data-chosen", "up")
    alice.assert_no_errors()
    await alice.close()
    # the hub stored the votes: alice's other window (a reload, a phone) shows them chosen
    again = await sign_in(browser, web_lab, "alice", room="budget", locale="ko-KR")
    timeline = again.timeline("budget")
    await expect(timeline.locator(f'.feedback[data-target="{target}"]')).to_have_attribute(
        "data-chosen", "down"
    )
    await expect(timeline.locator(f'.feedback[data-target="{plan_target}"]')).to_have_attribute(
        "data-chosen", "up"
    )
    again.assert_no_errors()
    await again.close()
    # nobody else sees them
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")
    theirs = carol.timeline("budget").locator(f'.feedback[data-target="{target}"]')
    await expect(theirs).to_have_count(1)
    assert await theirs.get_attribute("data-chosen") is None
    await carol.close()


PLAN = {
    "intent_type": "DEPLOY",
    "institution": "MOF",
    "system_name": "BUDGET",
    "infrastructure_layer": "WAS",
    "target_nodes": ["MOF-WAS-02", "MOF-WAS-01"],
    "action_sequence": ["DEPLOY_ARTIFACT", "HEALTH_CHECK"],
    "deploy_artifacts": ["budget-9.war"],
    "requires_approval": True,
    "needs_clarification": False,
    "question": None,
}
ARTIFACT = {
    "filename": "budget-9.war",
    "sha256": SHA,
    "size": 3 * 1024 * 1024,
    "uploaded_by": "alice",
}


async def test_fields_the_hub_will_add_are_shown_when_present(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")
    task = "TFIELDS000001"
    common = {"room_id": "budget", "task_id": task, "plan": PLAN, "artifacts": [ARTIFACT]}
    cancel = {"type": "BUTTON", "label": "취소", "action_id": "A-fields-cancel",
              "command_code": "CANCEL_TASK", "style": "danger"}  # fmt: skip
    await carol.inject(
        {"msg_type": "COMMAND_PLAN", "requires_approval": True, "requested_by": "alice",
         "system_label": "예산시스템", "interactive_actions": [cancel], **common},
        {"msg_type": "APPROVAL_REQUEST", "requested_by": "alice",
         "expires_at": "2099-01-01T00:00:00Z", "interactive_actions": [], **common},
    )  # fmt: skip
    plan = carol.timeline("budget").locator(f'.card-plan[data-task="{task}"]')
    await expect(plan.locator(".card-lead")).to_have_text("Deploy · 예산시스템 (BUDGET) WAS")
    await expect(plan.locator(".requester")).to_have_text("Requested by alice")
    await expect(plan.locator(".chip").first).to_have_text("MOF-WAS-02")  # the plan's order
    approval = carol.timeline("budget").locator(f'.card-approval[data-task="{task}"]')
    sha = approval.locator(".approval-files .artifact-sha")
    await expect(sha).to_have_text(f"sha256 {SHA[:12]}…")
    await expect(sha).to_have_attribute("title", SHA)  # the exact file, in full on hover
    await expect(approval.locator(".approval-files .artifact-size")).to_have_text("3.0 MiB")
    await expect(approval.locator(".approval-files .artifact-by")).to_have_text("uploaded by alice")

    await carol.inject(
        {"msg_type": "TASK_UPDATE", "room_id": "budget", "task_id": task, "status": "APPROVED",
         "actor": "bob", "message": "approved by bob"},
        {"msg_type": "TASK_FINISHED", "room_id": "budget", "task_id": task, "status": "FAILED",
         "reason": "AGENT_NOT_CONNECTED", "results": [],
         "content": "에이전트 demo-agent가 제한 시간 안에 연결되지 않았습니다"},
    )  # fmt: skip
    await expect(approval.locator(".decision")).to_have_text("Approved by bob")
    result = carol.timeline("budget").locator(f'.card-result[data-task="{task}"]')
    await expect(result).to_have_attribute("data-reason", "AGENT_NOT_CONNECTED")
    await expect(result.locator(".result-reason")).to_have_text(
        "The agent did not connect in time."
    )
    await expect(result).not_to_contain_text("에이전트")  # the hub's Korean sentence is not needed
    await expect(plan.locator(".progress")).to_have_count(0)  # it never ran
    await expect(plan.locator(".outcome-text")).to_have_text("The agent did not connect in time.")
    await expect(plan.locator("button[data-code=CANCEL_TASK]")).to_have_count(0)

    # a hub-side ending with no structure at all: the hub's words, marked as its note
    await carol.inject(
        {"msg_type": "TASK_FINISHED", "room_id": "budget", "task_id": "TFIELDS000002",
         "status": "FAILED", "results": [], "content": "내부 오류로 작업을 보내지 못했습니다"},
    )  # fmt: skip
    bare = carol.timeline("budget").locator('.card-result[data-task="TFIELDS000002"]')
    await expect(bare.locator(".result-note")).to_have_text(
        "Hub's note: 내부 오류로 작업을 보내지 못했습니다"
    )
    await expect(bare.locator(".feedback")).to_have_count(0)  # nothing ran: nothing to rate
    carol.assert_no_errors()
    await carol.close()
