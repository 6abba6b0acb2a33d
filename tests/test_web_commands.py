"""Commands from the web app against a real hub and agent: plan and result cards, a prod
deploy uploaded from the page and approved in another browser, buttons and refusals."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time

import pytest
from browser_support import (  # noqa: F401  (fixtures)
    Person,
    WebLab,
    browser,
    screenshot_path,
    sign_in,
    web_lab,
)
from playwright.async_api import Browser, FilePayload, Locator, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


def card(person: Person, room: str, kind: str, task_id: str | None = None) -> Locator:
    selector = f'.card[data-kind="{kind}"]' + (f'[data-task="{task_id}"]' if task_id else "")
    return person.timeline(room).locator(selector)


async def test_read_only_command_shows_its_plan_then_a_result_card(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget")
    await alice.say("14시 정기 점검 전에 WAS 상태부터 보겠습니다.")
    await alice.say("@guardia 예산시스템 WAS 상태 확인해줘")

    plan = card(alice, "budget", "plan").last
    await expect(plan.locator(".card-lead")).to_have_text("예산시스템 (BUDGET) WAS 상태 확인")
    await expect(plan.locator(".chip")).to_have_text(["MOF-WAS-01", "MOF-WAS-02"])
    await expect(plan.locator(".step")).to_have_text(["헬스 체크"])
    await expect(plan.locator(".step")).to_have_attribute("data-code", "HEALTH_CHECK")
    await expect(plan.locator(".badge")).to_have_text("바로 실행")
    task_id = await plan.get_attribute("data-task")

    result = card(alice, "budget", "result", task_id)
    await expect(result).to_have_attribute("data-status", "SUCCEEDED")
    await expect(result.locator(".result-row.is-ok")).to_have_count(2)
    await expect(result.locator(".result-count")).to_have_text("2건 중 2건 성공")
    output = result.locator("details.result-output").first
    await expect(output.locator("pre")).to_be_hidden()  # folded until asked for
    await output.locator("summary").click()
    await expect(output.locator("pre")).to_have_text("active")
    # the plan card's progress ends full, and its Cancel button is gone
    await expect(plan.locator(".bar-overall")).to_have_attribute("data-value", "1.000")
    await expect(plan.locator("button[data-code=CANCEL_TASK]")).to_have_count(0)

    await alice.page.screenshot(path=screenshot_path("screenshot-result.png"))
    alice.assert_no_errors()
    await alice.close()


async def bar_values(person: Person, task_id: str, until_done: float = 30.0) -> list[float]:
    """The plan card's overall progress as it moves, until the task's result arrives."""
    values: list[float] = []
    query = f"document.querySelector('.card-plan[data-task=\"{task_id}\"] .bar-overall')"
    done = f"document.querySelector('.card-result[data-task=\"{task_id}\"]')"
    deadline = time.monotonic() + until_done
    while time.monotonic() < deadline:
        value, finished = await person.page.evaluate(f"[{query}?.value ?? null, !!{done}]")
        if value is not None and (not values or values[-1] != value):
            values.append(value)
        if finished:
            return values
        await asyncio.sleep(0.03)
    raise AssertionError(f"no result for {task_id}; progress went {values}")


async def test_deploy_uploaded_from_the_page_is_approved_in_another_browser(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    war = os.urandom(3 * 1024 * 1024)
    alice = await sign_in(browser, web_lab, "alice", room="budget")
    bob = await sign_in(browser, web_lab, "bob", room="budget")

    upload: FilePayload = {
        "name": "budget-2.3.1.war",
        "mimeType": "application/java-archive",
        "buffer": war,
    }
    await alice.page.set_input_files("#file-input", files=[upload])
    panel = alice.page.locator("#upload-panel")
    await expect(panel).to_have_attribute("data-state", "done")
    await expect(panel).to_have_attribute("data-sha256", hashlib.sha256(war).hexdigest())
    await expect(panel.locator("progress")).to_have_attribute("data-value", "1.000")
    await panel.locator("button.btn-primary").click()
    await expect(alice.page.locator("#composer-text")).to_have_value(
        "@guardia budget-2.3.1.war 배포해줘"
    )
    await alice.say("@guardia 예산시스템 WAS에 budget-2.3.1.war 배포해줘")

    plan = card(alice, "budget", "plan").last
    await expect(plan.locator(".badge")).to_have_text("승인 필요")
    await expect(plan.locator(".chip-file")).to_have_text("budget-2.3.1.war")
    task_id = await plan.get_attribute("data-task")
    assert task_id

    # the requester sees her request waiting; an approver sees the buttons
    own = card(alice, "budget", "approval", task_id)
    await expect(own.locator(".card-note", has_text="다른 승인자")).to_have_count(1)
    # the exact file the approver approves: its sha256 is on the card
    await expect(own).to_contain_text(hashlib.sha256(war).hexdigest()[:12])
    await expect(own.locator("button")).to_have_count(0)
    request = card(bob, "budget", "approval", task_id)
    await expect(request.locator("button[data-code=APPROVE]")).to_be_enabled()
    await expect(request.locator("button[data-code=REJECT]")).to_be_enabled()
    await expect(request).to_contain_text("요청자 alice")
    waiting = bob.page.locator('.room-item[data-room="budget"] .awaiting')
    await expect(waiting).to_have_text("⚑ 1")
    await request.scroll_into_view_if_needed()
    await bob.page.screenshot(path=screenshot_path("screenshot-approval.png"))
    assert not list(web_lab.deploy_dir.iterdir())

    moving = asyncio.ensure_future(bar_values(alice, task_id))
    await request.locator("button[data-code=APPROVE]").click()
    # pressed, then used once the task moves on: by the presser himself
    await expect(request.locator("button[data-code=APPROVE]")).to_have_attribute(
        "data-state", "used"
    )
    await expect(request.locator("button[data-code=APPROVE] .btn-state")).to_have_text(
        "처리됨 · 나"
    )
    values = await moving
    assert any(0 < v < 1 for v in values), values
    assert values == sorted(values) and values[-1] == 1, values

    result = card(alice, "budget", "result", task_id)
    await expect(result).to_have_attribute("data-status", "SUCCEEDED")
    await expect(result.locator('.result-row[data-node="MOF-WAS-01"].is-ok')).to_have_count(2)
    await expect(own.locator(".pill")).to_have_text("승인됨")
    await expect(waiting).to_have_count(0)
    await expect(card(bob, "budget", "result", task_id)).to_have_count(1)
    assert (web_lab.deploy_dir / "budget-2.3.1.war").read_bytes() == war
    for person in (alice, bob):
        person.assert_no_errors()
        await person.close()


async def test_a_button_shows_pressed_refused_and_expired(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget")
    dave = await sign_in(browser, web_lab, "dave", room="budget")
    carol = await sign_in(browser, web_lab, "carol", room="budget")
    await alice.say("@guardia ping")

    def disk_button(person: Person) -> Locator:
        return person.timeline("budget").locator("button[data-code=CHECK_DISK_SPACE]").last

    await disk_button(dave).click()  # a viewer may not run it
    await expect(disk_button(dave)).to_have_attribute("data-state", "refused")
    refusal = dave.timeline("budget").locator(".action-error").last
    await expect(refusal).to_have_attribute("data-code", "FORBIDDEN")
    await expect(refusal.locator(".error-sentence")).to_have_text("이 작업을 할 권한이 없습니다.")
    await expect(refusal.locator(".error-detail")).to_contain_text("dave")  # the hub's words

    await disk_button(alice).click()
    # pressed, then used by her once the hub's BUTTON_STATE comes back (it may be quick)
    await expect(disk_button(alice)).to_have_attribute("data-state", re.compile("pressed|used"))
    progress = alice.timeline("budget").locator('.card[data-kind="progress"]').last
    await expect(progress.locator(".bar-overall")).to_be_visible()
    result = alice.timeline("budget").locator('.card[data-kind="result"]').last
    await expect(result).to_have_attribute("data-status", "SUCCEEDED")
    await expect(result.locator(".result-row .step").first).to_have_attribute(
        "data-code", "CHECK_DISK_SPACE"
    )
    await expect(result.locator(".result-row .step").first).to_have_text("디스크 용량")
    await expect(progress.locator(".bar-overall")).to_have_attribute("data-value", "1.000")

    # pressed already, by alice: carol's page shows it spent, and by whom (BUTTON_STATE)
    await expect(disk_button(carol)).to_be_disabled()
    await expect(disk_button(carol)).to_have_attribute("data-state", "used")
    await expect(disk_button(carol)).to_have_attribute("data-by", "alice")
    for person in (alice, dave, carol):
        person.assert_no_errors()
        await person.close()


async def test_a_refused_command_shows_the_error_beside_the_message(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    dave = await sign_in(browser, web_lab, "dave", room="budget")
    await dave.say("@guardia 예산시스템 WAS 재기동해줘")
    error = dave.timeline("budget").locator('.card[data-kind="error"]').last
    await expect(error).to_have_attribute("data-code", "FORBIDDEN")
    await expect(error.locator(".card-ref")).to_have_text(
        "관련 메시지: “@guardia 예산시스템 WAS 재기동해줘”"
    )
    # it sits right after the message that caused it
    item = dave.timeline("budget").locator('article[data-type="ERROR"]').last
    before = await item.evaluate("node => node.previousElementSibling.textContent")
    assert "@guardia 예산시스템 WAS 재기동해줘" in before
    dave.assert_no_errors()
    await dave.close()
