"""The web app on a phone (issue 15.7), in Chromium at 390x844 with touch: an on-call
approver signs in, finds the room through the drawer, reads a result card and approves,
and nothing on the page is wider than the screen. Screenshots go to docs/."""

from __future__ import annotations

import pytest
from browser_support import (  # noqa: F401  (fixtures)
    Person,
    WebLab,
    browser,
    screenshot_path,
    sign_in,
    web_lab,
)
from playwright.async_api import Browser, Locator, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

WIDE_DISK = {
    "threshold": 90,
    "filesystems": [
        {"mount": f"/srv/applications/budget-batch-{i}", "device": f"/dev/mapper/vg_data-lv_{i}",
         "size_kb": 104857600, "used_kb": 99614720 if i == 2 else 20971520,
         "avail_kb": 5242880 if i == 2 else 83886080, "use_percent": 95 if i == 2 else 20}
        for i in range(4)
    ],
}  # fmt: skip


async def overflow(person: Person) -> dict[str, object]:
    """What sticks out: the page's width beyond the screen, and cards wider than themselves."""
    result: dict[str, object] = await person.page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - window.innerWidth,
            cards: [...document.querySelectorAll('.timeline:not([hidden]) .card')]
                .filter((c) => c.scrollWidth > c.clientWidth + 1
                    || c.getBoundingClientRect().right > window.innerWidth + 1)
                .map((c) => c.dataset.kind + ' ' + (c.dataset.task || '')),
        })"""
    )
    return result


async def fits(person: Person) -> None:
    assert await overflow(person) == {"page": 0, "cards": []}


def card(person: Person, kind: str, task_id: str | None = None) -> Locator:
    selector = f'.card[data-kind="{kind}"]' + (f'[data-task="{task_id}"]' if task_id else "")
    return person.timeline("budget").locator(selector)


@pytest.mark.slow
async def test_an_approver_on_a_phone_reads_a_result_and_approves(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice", room="budget")
    bob = await sign_in(browser, web_lab, "bob", room="ops", phone=True)
    page = bob.page

    # the room list is a drawer: closed, the room has the whole width and the composer fits
    await expect(page.locator("#sidebar")).not_to_be_in_viewport()
    await expect(page.locator("#rooms-toggle")).to_be_visible()
    box = await page.locator("#composer-text").bounding_box()
    assert box and box["width"] >= 200, box
    placeholder = await page.locator("#composer-text").get_attribute("placeholder")
    assert placeholder == "메시지 또는 @guardia 명령"
    await expect(page.locator("#conn-mini")).to_have_attribute("data-state", "online")
    await bob.open_room("budget")
    await expect(page.locator("#sidebar")).not_to_be_in_viewport()  # closed again

    # a result card, read on the phone
    await alice.say("@guardia 예산시스템 WAS 상태 확인해줘")
    result = card(bob, "result").last
    await expect(result).to_have_attribute("data-status", "SUCCEEDED")
    await expect(result.locator(".result-count")).to_have_text("2건 중 2건 성공")
    await expect(result.locator(".result-node-name")).to_have_text(["MOF-WAS-01", "MOF-WAS-02"])
    await result.locator("details.result-output summary").first.tap()
    await expect(result.locator("details.result-output pre").first).to_have_text("active")
    await result.scroll_into_view_if_needed()
    await fits(bob)
    await page.screenshot(path=screenshot_path("screenshot-phone-result.png"))

    # away in another room, the drawer's button says something waits for him
    await bob.open_room("ops")
    await alice.say("@guardia 예산시스템 WAS 재기동해줘")
    badge = page.locator("#rooms-toggle-badge")
    await expect(badge).to_be_visible()
    await expect(badge).to_have_text("⚑ 1")
    await page.locator("#rooms-toggle").tap()
    await expect(page.locator('.room-item[data-room="budget"] .awaiting')).to_have_text("⚑ 1")
    await page.locator('.room-item[data-room="budget"]').tap()
    request = card(bob, "approval").last
    task_id = await request.get_attribute("data-task")
    approve = request.locator("button[data-code=APPROVE]")
    await expect(approve).to_be_enabled()
    touch = await approve.bounding_box()
    assert touch and touch["height"] >= 40, touch  # a finger's size
    await request.scroll_into_view_if_needed()
    await fits(bob)
    await page.screenshot(path=screenshot_path("screenshot-phone-approval.png"))

    await approve.tap()
    done = card(bob, "result", task_id)
    await expect(done).to_have_attribute("data-status", "SUCCEEDED")
    await expect(approve).to_be_disabled()
    await expect(approve).to_have_attribute("data-state", "used")
    await expect(card(alice, "result", task_id)).to_have_count(1)
    await fits(bob)
    for person in (alice, bob):
        person.assert_no_errors()
        await person.close()


async def test_a_wide_table_scrolls_inside_its_card_on_a_phone(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    carol = await sign_in(browser, web_lab, "carol", room="budget", locale="en-US", phone=True)
    result = {"node": "MOF-WAS-01", "action": "CHECK_DISK_SPACE", "ok": True, "duration_ms": 9,
              "summary": "4 file systems", "output_tail": "x" * 300, "data": WIDE_DISK}  # fmt: skip
    await carol.inject(
        {
            "msg_type": "TASK_FINISHED",
            "room_id": "budget",
            "task_id": "TPHONE0000001",
            "status": "SUCCEEDED",
            "results": [result],
        },
        {"msg_type": "CHAT", "room_id": "budget", "content": "T" + "0123456789" * 12},
    )
    disk = card(carol, "result", "TPHONE0000001")
    await expect(disk.locator("tr.is-full")).to_have_count(1)
    scroller = disk.locator(".table-scroll")
    widths = await scroller.evaluate("n => [n.scrollWidth, n.clientWidth]")
    assert widths[0] > widths[1], widths  # wider than the screen: it scrolls, the card does not
    await disk.locator("details.result-output summary").tap()
    await fits(carol)
    carol.assert_no_errors()
    await carol.close()


@pytest.mark.parametrize("width", [360, 420])
async def test_nothing_is_wider_than_the_screen_from_360_to_420_px(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
    width: int,
) -> None:
    """The rooms the tests above filled (plans, approvals, results, a wide table) at the
    narrowest and widest phone sizes."""
    person = await sign_in(browser, web_lab, "carol", room="budget", phone=True)
    await person.page.set_viewport_size({"width": width, "height": 800})
    await expect(card(person, "result")).not_to_have_count(0)
    await fits(person)
    await person.open_room("ops")
    await fits(person)
    person.assert_no_errors()
    await person.close()
