"""Cards in the reader's language (issue 15.5/15.6) against a real hub and agent: a Korean
and an English reader see the same plan, approval, progress, result and error cards, each
in their own language; decided buttons look used to those who come later; Cancel shows only
to those who may cancel; a task that never ran shows no progress."""

from __future__ import annotations

import pytest
from browser_support import (  # noqa: F401  (fixtures)
    Person,
    WebLab,
    browser,
    sign_in,
    web_lab,
)
from playwright.async_api import Browser, Locator, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


def card(person: Person, kind: str, task_id: str | None = None, room: str = "budget") -> Locator:
    selector = f'.card[data-kind="{kind}"]' + (f'[data-task="{task_id}"]' if task_id else "")
    return person.timeline(room).locator(selector)


async def command(person: Person, text: str) -> str:
    """Give a command; the task id of the plan card it brings."""
    before = await card(person, "plan").count()
    await person.say(text)
    await expect(card(person, "plan")).to_have_count(before + 1)
    task_id = await card(person, "plan").last.get_attribute("data-task")
    assert task_id
    return task_id


@pytest.mark.slow
async def test_a_korean_and_an_english_reader_see_each_card_in_their_own_language(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")
    bob = await sign_in(browser, web_lab, "bob", room="budget", locale="ko-KR")
    task_id = await command(carol, "@guardia restart the BUDGET WAS")

    # the plan: words from the plan's codes, in each reader's language
    for person, words in (
        (carol, ("Command plan", "Restart · 예산시스템 (BUDGET) WAS", ["Restart", "Health check"])),
        (bob, ("실행 계획", "예산시스템 (BUDGET) WAS 재기동", ["재기동", "헬스 체크"])),
    ):
        title, lead, steps = words
        plan = card(person, "plan", task_id)
        await expect(plan.locator(".card-title")).to_have_text(title)
        await expect(plan.locator(".card-lead")).to_have_text(lead)
        await expect(plan.locator(".step")).to_have_text(steps)
        await expect(plan.locator(".chip")).to_have_text(["MOF-WAS-01", "MOF-WAS-02"])

    # the approval request: Carol asked in English; Bob reads it, and decides, in Korean
    request = card(bob, "approval", task_id)
    await expect(request.locator(".approval-lead")).to_contain_text("carol님의 운영 변경 요청")
    await expect(request.locator("button[data-code=APPROVE] .btn-label")).to_have_text("승인")
    await expect(request.locator("button[data-code=REJECT] .btn-label")).to_have_text("반려")
    own = card(carol, "approval", task_id)
    await expect(own.locator(".approval-lead")).to_contain_text("carol asks for a production")
    await expect(own.locator(".card-note")).to_have_text(
        "Your request: another approver must decide."
    )
    await request.locator("button[data-code=APPROVE]").click()

    # progress, then the result: one line per node and action, nodes in the plan's order
    for person, words in (
        (carol, ("Approved", "Approved by bob", "Succeeded", "4/4 succeeded", "Overall")),
        (bob, ("승인됨", "bob님이 승인", "성공", "4건 중 4건 성공", "전체")),
    ):
        approved, decided, succeeded, count, overall = words
        result = card(person, "result", task_id)
        await expect(result).to_have_attribute("data-status", "SUCCEEDED")
        await expect(result.locator(".pill")).to_have_text(succeeded)
        await expect(result.locator(".result-count")).to_have_text(count)
        await expect(result.locator(".result-node-name")).to_have_text(["MOF-WAS-01", "MOF-WAS-02"])
        steps = result.locator('.result-node[data-node="MOF-WAS-01"] .step')
        await expect(steps.first).to_have_attribute("data-code", "RESTART_SERVICE")
        await expect(card(person, "approval", task_id).locator(".pill")).to_have_text(approved)
        await expect(card(person, "approval", task_id).locator(".decision")).to_have_text(decided)
        progress = card(person, "plan", task_id).locator(".progress")
        await expect(progress.locator(".progress-label")).to_have_text(overall)
        await expect(progress.locator(".bar-overall")).to_have_attribute("data-value", "1.000")
        # the nodes are told once, in the result: the finished progress has no node lines
        await expect(progress.locator(".node-row")).to_have_count(0)
    await expect(
        card(carol, "result", task_id).locator('.result-node[data-node="MOF-WAS-01"] .step')
    ).to_have_text(["Restart", "Health check"])
    await expect(
        card(bob, "result", task_id).locator('.result-node[data-node="MOF-WAS-01"] .step')
    ).to_have_text(["재기동", "헬스 체크"])
    for person in (carol, bob):
        person.assert_no_errors()
        await person.close()


@pytest.mark.slow
async def test_a_rejection_reads_in_each_language_and_looks_decided_to_a_late_comer(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget", locale="ko-KR")
    bob = await sign_in(browser, web_lab, "bob", room="budget", locale="ko-KR")
    task_id = await command(alice, "@guardia 예산시스템 WEB 재기동해줘")
    request = card(bob, "approval", task_id)
    await request.locator("button[data-code=REJECT]").click()
    await expect(card(bob, "result", task_id)).to_have_attribute("data-status", "REJECTED")

    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")  # later
    for person, words in (
        (bob, ("반려됨", "bob님이 반려했습니다.", "처리됨 · 나")),
        (carol, ("Rejected", "bob rejected it.", "used · by bob")),
    ):
        rejected, why, used = words
        result = card(person, "result", task_id)
        await expect(result.locator(".pill")).to_have_text(rejected)
        await expect(result.locator(".result-reason")).to_have_text(why)
        await expect(result).not_to_contain_text("REJECTED")  # no raw codes or hub sentences
        # the plan card: no progress bar for a task that never ran, and no Cancel
        plan = card(person, "plan", task_id)
        await expect(plan.locator(".progress")).to_have_count(0)
        await expect(plan.locator(".outcome-text")).to_have_text(why)
        await expect(plan.locator("button[data-code=CANCEL_TASK]")).to_have_count(0)
        # the decided request: both buttons disabled, the pressed one says by whom
        approval = card(person, "approval", task_id)
        reject = approval.locator("button[data-code=REJECT]")
        await expect(reject).to_be_disabled()
        await expect(reject).to_have_attribute("data-state", "used")
        await expect(reject.locator(".btn-state")).to_have_text(used)
        await expect(approval.locator("button[data-code=APPROVE]")).to_be_disabled()
        await expect(approval.locator("button[data-code=APPROVE]")).to_have_attribute(
            "data-state", "closed"
        )
    for person in (alice, bob, carol):
        person.assert_no_errors()
        await person.close()


async def test_cancel_shows_only_to_those_who_may_cancel_and_cancelling_reads_in_each_language(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget", locale="ko-KR")
    bob = await sign_in(browser, web_lab, "bob", room="budget", locale="en-US")
    dave = await sign_in(browser, web_lab, "dave", room="budget", locale="ko-KR")
    task_id = await command(alice, "@guardia 예산시스템 WAS 재기동해줘")  # waits for approval
    for person, count in ((alice, 1), (bob, 1), (dave, 0)):  # requester, approver, viewer
        cancel = card(person, "plan", task_id).locator("button[data-code=CANCEL_TASK]")
        await expect(card(person, "approval", task_id)).to_have_count(1)
        await expect(cancel).to_have_count(count)
    await expect(
        card(alice, "plan", task_id).locator("button[data-code=CANCEL_TASK] .btn-label")
    ).to_have_text("취소")
    await expect(
        card(bob, "plan", task_id).locator("button[data-code=CANCEL_TASK] .btn-label")
    ).to_have_text("Cancel")

    await card(alice, "plan", task_id).locator("button[data-code=CANCEL_TASK]").click()
    for person, why in ((alice, "alice님이 취소했습니다."), (bob, "alice cancelled it.")):
        result = card(person, "result", task_id)
        await expect(result).to_have_attribute("data-status", "CANCELLED")
        await expect(result.locator(".result-reason")).to_have_text(why)
        await expect(card(person, "plan", task_id).locator(".progress")).to_have_count(0)
        await expect(
            card(person, "plan", task_id).locator("button[data-code=CANCEL_TASK]")
        ).to_have_count(0)
    approve = card(bob, "approval", task_id).locator("button[data-code=APPROVE]")
    await expect(approve).to_be_disabled()
    waiting = bob.page.locator('.room-item[data-room="budget"] .awaiting')
    await expect(waiting).to_have_count(0)
    for person in (alice, bob, dave):
        person.assert_no_errors()
        await person.close()


async def test_an_error_reads_as_a_sentence_in_each_language_with_the_hubs_words_below(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    bob = await sign_in(browser, web_lab, "bob", room="budget", locale="ko-KR")
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US")
    dave = await sign_in(browser, web_lab, "dave", room="budget", locale="en-US")
    await dave.say("@guardia restart the BUDGET WAS")  # a viewer may not
    details = []
    for person, sentence in (
        (bob, "이 작업을 할 권한이 없습니다."),
        (carol, "You are not allowed to do that."),
        (dave, "You are not allowed to do that."),
    ):
        error = person.timeline("budget").locator('.card[data-kind="error"]').last
        await expect(error).to_have_attribute("data-code", "FORBIDDEN")
        await expect(error.locator(".error-sentence")).to_have_text(sentence)
        details.append(await error.locator(".error-detail").text_content())
    assert details[0] and len(set(details)) == 1, details  # the hub's words, as it wrote them
    await expect(
        dave.timeline("budget").locator('.card[data-kind="error"] .card-ref').last
    ).to_have_text("about: “@guardia restart the BUDGET WAS”")
    for person in (bob, carol, dave):
        person.assert_no_errors()
        await person.close()
