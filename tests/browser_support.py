"""Browser tests' shared parts: the demo's data on a real hub and local agent, and Chromium.

The lab is what `guardia demo` sets up (hub/cli/demo.py: its CMDB, users, rooms and agent
configuration) on a free port, so the browser tests drive the screens people first meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from conftest import unavailable
from harness import REPO, AgentProcess, Database, HubProcess
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    WebSocket,
    async_playwright,
    expect,
)
from test_hub_agents import wait_online

from cmdb import accounts
from hub.cli.demo import AGENT_ID, AGENT_YAML, DEMO_FILES, ROOM_SCOPES, ROOMS, USERS

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
DOCS = REPO / "docs"

expect.set_options(timeout=20_000)


class DemoDatabase(Database):
    async def add_named_room(self, room_id: str, name: str, scope: str | None) -> None:
        await self._run(lambda s: accounts.add_room(s, room_id, name, scope))


@dataclass
class WebLab:
    hub: HubProcess
    agent: AgentProcess
    workdir: Path
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.hub.http + "/"

    @property
    def deploy_dir(self) -> Path:
        return self.workdir / "deploy"

    def stop(self) -> None:
        self.agent.stop()
        self.hub.stop()


async def start_web_lab(workdir: Path, agent_extra: str = "", **hub_env: str) -> WebLab:
    """The demo (alice operator, bob approver, carol admin, dave viewer) with its agent;
    `agent_extra` is added to the agent's YAML, `hub_env` to the hub's environment."""
    db = DemoDatabase(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")
    await db.import_cmdb((DEMO_FILES / "cmdb.yaml").read_text())
    tokens = {name: await db.add_user(name, *roles) for name, roles in USERS.items()}
    for room_id, name in ROOMS.items():
        await db.add_named_room(room_id, name, ROOM_SCOPES.get(room_id))
    agent_token = await db.add_agent(AGENT_ID)
    (workdir / "hub").mkdir()
    # one test posts a long history from a script, faster than a person may type
    env = {"GUARDIA_RATE_PER_SECOND": "1000", "GUARDIA_RATE_BURST": "500", **hub_env}
    hub = HubProcess(db, workdir / "hub", **env)
    await hub.start()
    (workdir / "deploy").mkdir()
    log = workdir / "demo-service.log"
    log.write_text("".join(f"demo service log line {i}\n" for i in range(1, 41)))
    config = workdir / "agent.yaml"
    config.write_text(
        AGENT_YAML.format(
            hub_pub=hub.data_dir / "hub.pub",
            outbox=workdir / "agent-outbox.sqlite",
            log=log,
            deploy=workdir / "deploy",
        )
        + agent_extra
    )
    agent = AgentProcess(hub, AGENT_ID, agent_token, config, workdir)
    agent.start()
    try:
        await wait_online(hub, AGENT_ID)
    except BaseException:
        agent.stop()
        hub.stop()
        raise
    return WebLab(hub, agent, workdir, tokens)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def web_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebLab]:
    lab = await start_web_lab(tmp_path_factory.mktemp("web"))
    yield lab
    lab.stop()


def require_chromium() -> None:
    """Debian's Chromium: a failure in CI when missing, a skip elsewhere."""
    if not CHROMIUM.exists():
        unavailable(f"Chromium at {CHROMIUM}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Debian Chromium per test module."""
    require_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        await chromium.close()


@dataclass
class Person:
    """One signed-in browser window, with the page errors it saw."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # frames the page sent the hub

    def sent_of(self, msg_type: str) -> list[dict[str, Any]]:
        return [frame for frame in self.sent if frame.get("msg_type") == msg_type]

    async def close(self) -> None:
        await self.context.close()

    async def say(self, text: str) -> None:
        await self.page.fill("#composer-text", text)
        await self.page.press("#composer-text", "Enter")

    async def open_room(self, room_id: str) -> None:
        """Choose a room in the sidebar; on a phone, open the room drawer first."""
        if await self.page.locator("#rooms-toggle").is_visible():
            await self.page.locator("#rooms-toggle").click()
        await self.page.click(f'.room-item[data-room="{room_id}"]')
        await expect(self.page.locator(f'.timeline[data-room="{room_id}"]')).to_be_visible()

    async def inject(self, *frames: dict[str, Any]) -> list[int]:
        """Hand stored room frames to the app as if the hub had sent them (frames the hub
        does not send yet); each gets the next seq of its room unless it names one."""
        seqs: list[int] = await self.page.evaluate(INJECT, list(frames))
        return seqs

    def timeline(self, room_id: str) -> Locator:
        return self.page.locator(f'.timeline[data-room="{room_id}"]')

    def assert_no_errors(self, *allowed: str) -> None:
        left = [e for e in self.errors if not any(a in e for a in allowed)]
        assert not left, left


INJECT = """(frames) => frames.map((frame) => {
    const app = window.__guardia.app;
    const seq = frame.seq ?? app.store.room(frame.room_id).highest + 1;
    app.received({ v: 1, sender: "GUARDiA-Bot", sender_type: "BOT", timestamp: new Date().toISOString(),
                   message_id: `m-test-${frame.room_id}-${seq}`, ...frame, seq });
    return seq;
})"""


async def new_window(browser: Browser, locale: str = "ko-KR", phone: bool = False) -> Person:
    if phone:
        context = await browser.new_context(
            viewport=PHONE, locale=locale, is_mobile=True, has_touch=True, device_scale_factor=2
        )
    else:
        context = await browser.new_context(viewport=VIEWPORT, locale=locale)
    page = await context.new_page()
    person = Person(context, page)
    page.on("pageerror", lambda exc: person.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: person.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )

    def watch(ws: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            with contextlib.suppress(ValueError):
                person.sent.append(json.loads(payload))

        ws.on("framesent", sent)

    page.on("websocket", watch)
    return person


async def sign_in(
    browser: Browser,
    lab: WebLab,
    user: str,
    room: str = "ops",
    locale: str = "ko-KR",
    phone: bool = False,
) -> Person:
    """A browser window signed in as `user`, connected, with `room` open."""
    person = await new_window(browser, locale, phone)
    await person.page.goto(f"{lab.url}#{room}")
    await person.page.fill("#signin-token", lab.tokens[user])
    await person.page.click("#signin-form button[type=submit]")
    await expect(person.page.locator("#conn-status")).to_have_attribute("data-state", "online")
    await expect(person.page.locator("#me-name")).to_have_text(user)
    await expect(person.timeline(room)).to_be_visible()
    return person


def screenshot_path(name: str) -> Path:
    DOCS.mkdir(exist_ok=True)
    return DOCS / name


async def until(page: Page, expression: str, timeout: float = 15.0) -> Any:
    """Poll a JS expression until it is truthy (the page's CSP forbids wait_for_function)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} still {value!r} after {timeout} s")
        await asyncio.sleep(0.05)
