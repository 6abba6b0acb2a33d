"""The operations view in Chromium against a real hub and agent: who may open it, what it
shows after a command, and an agent going offline shown within its heartbeat interval."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from browser_support import (  # noqa: F401  (fixtures)
    WebLab,
    browser,
    screenshot_path,
    sign_in,
    start_web_lab,
    until,
)
from harness import chat_client
from playwright.async_api import Browser, expect

from hub.cli.demo import AGENT_ID

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

HEARTBEAT = 4  # seconds: GUARDIA_AGENT_PING_INTERVAL here, the agent's heartbeat below it


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ops_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebLab]:
    lab = await start_web_lab(
        tmp_path_factory.mktemp("ops"),
        agent_extra="heartbeat: {interval: 1}\n",
        GUARDIA_AGENT_PING_INTERVAL=str(HEARTBEAT),
    )
    yield lab
    lab.stop()


async def test_only_admins_and_approvers_get_the_view(
    browser: Browser,  # noqa: F811
    ops_lab: WebLab,
) -> None:
    alice = await sign_in(browser, ops_lab, "alice", locale="en-US")
    await expect(alice.page.locator("#ops-open")).to_be_hidden()
    bob = await sign_in(browser, ops_lab, "bob", locale="ko-KR")
    await expect(bob.page.locator("#ops-open")).to_have_text("운영 현황")
    await bob.page.click("#ops-open")
    row = bob.page.locator(f'.ops-agent[data-agent="{AGENT_ID}"]')
    await expect(row).to_have_attribute("data-state", "online")
    await expect(row).to_contain_text("연결됨")
    await expect(bob.page.locator(".timeline")).to_have_count(2)
    await expect(bob.page.locator("main.room")).to_be_hidden()
    await bob.page.click("#ops-close")
    await expect(bob.page.locator("main.room")).to_be_visible()
    for person in (alice, bob):
        person.assert_no_errors()
        await person.close()


async def test_the_view_shows_a_command_and_an_agent_going_offline_within_its_heartbeat(
    browser: Browser,  # noqa: F811
    ops_lab: WebLab,
) -> None:
    async with chat_client(ops_lab.hub, ops_lab.tokens["alice"]) as client:
        await client.join("budget")
        await client.send(
            msg_type="CHAT", room_id="budget", content="@guardia 예산시스템 WAS 상태 확인해줘"
        )
        plan = await client.expect("COMMAND_PLAN")
        await client.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=30)

    carol = await sign_in(browser, ops_lab, "carol", locale="en-US")
    await carol.page.click("#ops-open")
    row = carol.page.locator(f'.ops-agent[data-agent="{AGENT_ID}"]')
    await expect(row).to_have_attribute("data-state", "online")
    await expect(row.locator("td").nth(3)).not_to_have_text("–")  # the agent's version
    await expect(row.locator("td").nth(2)).to_contain_text("s ago")
    await expect(carol.page.locator('figure[data-chart="commands"] rect')).to_have_count(1)
    await expect(carol.page.locator('figure[data-chart="latency"] figcaption')).to_contain_text(
        "p50"
    )
    await expect(carol.page.locator('[data-tile="agents"] .ops-tile-value')).to_have_text("1 / 1")
    await carol.page.screenshot(path=str(screenshot_path("screenshot-ops.png")))

    ops_lab.agent.kill()
    gone = time.monotonic()
    await until(
        carol.page,
        f"document.querySelector('.ops-agent[data-agent=\"{AGENT_ID}\"]')?.dataset.state === 'offline'",
        timeout=HEARTBEAT * 2,
    )
    seen_after = time.monotonic() - gone
    assert seen_after < HEARTBEAT, f"shown offline {seen_after:.1f} s after the agent went"
    await expect(row).to_contain_text("offline")
    await expect(carol.page.locator('[data-tile="agents"] .ops-tile-value')).to_have_text("0 / 1")
    carol.assert_no_errors()
    await carol.close()
