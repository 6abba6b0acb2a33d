"""The web app in Chromium against a real hub: sign-in, rooms, live chat, history, markup
shown as text, and a reconnect that replays what was missed exactly once."""

from __future__ import annotations

import pytest
from browser_support import WebLab, browser, sign_in, until, web_lab  # noqa: F401  (fixtures)
from harness import chat_client
from playwright.async_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_a_bad_token_is_refused_and_a_good_one_lists_the_rooms(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(web_lab.url)
    await page.fill("#signin-token", "guardia_u_not-a-real-token")
    await page.click("#signin-form button[type=submit]")
    await expect(page.locator("#signin-error")).to_have_text(
        "This token is not valid (or was revoked)."
    )
    await page.fill("#signin-token", web_lab.tokens["dave"])
    await page.click("#signin-form button[type=submit]")
    await expect(page.locator("#conn-status")).to_have_attribute("data-state", "online")
    await expect(page.locator(".room-item")).to_have_count(2)
    await expect(page.locator('.room-item[data-room="budget"]')).to_contain_text("예산시스템")
    await expect(page.locator("#me-roles")).to_have_text("viewer")
    await context.close()


async def test_a_message_reaches_a_second_browser_and_later_comers_get_it_from_history(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    alice = await sign_in(browser, web_lab, "alice")
    bob = await sign_in(browser, web_lab, "bob")
    await alice.say("점검 시작합니다. 10분간 배포 금지")
    line = 'article[data-type="CHAT"]:has-text("점검 시작합니다")'
    await expect(bob.timeline("ops").locator(line)).to_have_count(1)
    await expect(bob.timeline("ops").locator(line)).to_contain_text("alice")
    # the sender sees the stored message once: the "sending" copy is replaced by it
    await expect(alice.timeline("ops").locator(line)).to_have_count(1)
    await expect(alice.page.locator(".msg-pending")).to_have_count(0)

    carol = await sign_in(browser, web_lab, "carol")  # signs in later: REST history
    await expect(carol.timeline("ops").locator(line)).to_have_count(1)
    for person in (alice, bob, carol):
        person.assert_no_errors()
        await person.close()


async def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    attack = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    alice = await sign_in(browser, web_lab, "alice")
    bob = await sign_in(browser, web_lab, "bob")
    await alice.say(attack)
    for person in (alice, bob):
        item = person.timeline("ops").locator('article[data-type="CHAT"]').last
        await expect(item.locator(".msg-text")).to_have_text(attack)
        assert await item.locator("img, script").count() == 0
    await alice.page.reload()  # and from history too
    await expect(alice.timeline("ops").locator(".msg-text").last).to_have_text(attack)
    for person in (alice, bob):
        assert await person.page.evaluate("window.__pwned") is None
        person.assert_no_errors()
        await person.close()


async def test_after_the_socket_is_cut_missed_messages_appear_exactly_once(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    bob = await sign_in(browser, web_lab, "bob")
    await bob.say("before the cut")
    await expect(bob.timeline("ops").locator(".msg-text", has_text="before the cut")).to_have_count(
        1
    )

    await bob.context.set_offline(True)
    await bob.page.evaluate("window.__guardia.socket.drop()")
    await expect(bob.page.locator("#conn-status")).to_have_attribute("data-state", "offline")
    missed = [f"missed while away {i}" for i in range(3)]
    async with chat_client(web_lab.hub, web_lab.tokens["carol"]) as carol:
        await carol.join("ops")
        for text in missed:
            await carol.send(msg_type="CHAT", room_id="ops", content=text)
            await carol.expect("CHAT", content=text)
    # offline, the app's reconnect attempts fail: these were missed, not delivered live
    assert await bob.page.evaluate("window.__guardia.app.stats.hellos") == 1
    await expect(bob.timeline("ops").locator(".msg-text", has_text=missed[0])).to_have_count(0)
    await bob.context.set_offline(False)
    await expect(bob.page.locator("#conn-status")).to_have_attribute("data-state", "online")
    for text in missed:
        await expect(bob.timeline("ops").locator(".msg-text", has_text=text)).to_have_count(1)

    # a replay of the whole room (a JOIN from seq 0) adds nothing: the app drops seen seqs
    duplicates = await bob.page.evaluate("window.__guardia.app.stats.duplicates")
    await bob.page.evaluate(
        "window.__guardia.socket.send({msg_type: 'JOIN', room_id: 'ops', after_seq: 0})"
    )
    await until(bob.page, f"window.__guardia.app.stats.duplicates >= {duplicates + 4}")
    for text in [*missed, "before the cut"]:
        await expect(bob.timeline("ops").locator(".msg-text", has_text=text)).to_have_count(1)
    assert await bob.page.evaluate("window.__guardia.app.stats.hellos") == 2
    bob.assert_no_errors("ERR_INTERNET_DISCONNECTED", "WebSocket")
    await bob.close()


async def test_long_history_loads_its_last_page_first_and_earlier_pages_on_request(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    async with chat_client(web_lab.hub, web_lab.tokens["carol"]) as carol:
        await carol.join("ops")
        for i in range(120):
            await carol.send(msg_type="CHAT", room_id="ops", content=f"history line {i}")
        await carol.expect("CHAT", content="history line 119")
    dave = await sign_in(browser, web_lab, "dave")
    items = dave.timeline("ops").locator("article[data-seq]")
    await expect(dave.timeline("ops").locator(".msg-text").last).to_have_text("history line 119")
    assert await items.count() <= 100
    earlier = dave.timeline("ops").locator("button.earlier")
    while await earlier.is_visible():
        first = await items.first.get_attribute("data-seq")
        await earlier.click()
        await expect(items.first).not_to_have_attribute("data-seq", first or "")
    await expect(dave.timeline("ops").locator('article[data-seq="1"]')).to_have_count(1)
    seqs = [int(s) for s in await items.evaluate_all("items => items.map(i => i.dataset.seq)")]
    assert seqs == sorted(set(seqs))
    await expect(
        dave.timeline("ops").locator(".msg-text", has_text="history line 0")
    ).to_have_count(1)
    dave.assert_no_errors()
    await dave.close()


async def test_language_follows_the_browser_and_can_be_switched(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    dave = await sign_in(browser, web_lab, "dave", locale="en-US")
    await expect(dave.page.locator("#send")).to_have_text("Send")
    await expect(dave.page.locator("#conn-status")).to_contain_text("Connected")
    await dave.page.click(".sidebar [data-lang-toggle]")
    await expect(dave.page.locator("#send")).to_have_text("보내기")
    await expect(dave.page.locator("#conn-status")).to_contain_text("연결됨")
    assert await dave.page.evaluate("document.documentElement.lang") == "ko"
    dave.assert_no_errors()
    await dave.close()


async def test_reconnect_delays_double_from_one_second_to_thirty_with_jitter(
    browser: Browser,  # noqa: F811
    web_lab: WebLab,  # noqa: F811
) -> None:
    page = await browser.new_page()
    await page.goto(web_lab.url)
    delays = await page.evaluate(
        """async () => {
            const { reconnectDelay } = await import("/js/socket.js");
            const at = (r) => [0, 1, 2, 3, 4, 5, 6, 10].map((n) => reconnectDelay(n, () => r));
            return { low: at(0), mid: at(0.5), high: at(1) };
        }"""
    )
    await page.close()
    assert delays["mid"] == [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    assert delays["low"][0] == 800 and delays["high"][0] == 1200
    assert delays["high"][-1] == 30000 and delays["low"][-1] == 24000
