"""`guardia demo`: one command gives a working hub, users, rooms and a local agent, and
every command it suggests (hub/cli/demo.py TRY) runs on this machine alone, as printed."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import browser, new_window  # noqa: F401  (fixtures)
from harness import BIN, ChatClient, Database, HubProcess, chat_client, free_port, terminate
from playwright.async_api import Browser, expect
from test_hub_agents import wait_online

from agent.db_locks import COLUMNS
from hub.cli.demo import DEMO_ARTIFACT, LOCK_COLUMNS, TRY

TOKEN_LINE = re.compile(r"^\s+(alice|bob|carol|dave)\s+\S+\s+(gu_\S+)$", re.M)
EXPORT_LINE = re.compile(r"^\s+export (GUARDIA_\w+)=(\S+)$", re.M)
#: what the demo must offer, at the least (issue 15: every intent, DB locks included)
INTENTS = {"STATUS", "DISK_CHECK", "DB_LOCK_CHECK", "LOG_TAIL", "RESTART", "DEPLOY", "ROLLBACK"}


class Demo:
    """`guardia demo` in a child process, as `./scripts/demo` runs it, on a free port."""

    def __init__(self, workdir: Path, data: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.data = data
        self.port = port or free_port()
        self.out = workdir / f"demo-{self.port}.out"
        self.proc: subprocess.Popen[bytes] | None = None
        self.hub = HubProcess(Database("unused"), workdir)
        self.hub.port = self.port

    def start(self) -> None:
        with open(self.out, "wb") as sink:
            self.proc = subprocess.Popen(
                [BIN / "guardia", "demo", "--port", str(self.port), "--data-dir", self.data],
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env={k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")},
            )
        deadline = time.monotonic() + 60
        while len(self.tokens) < 4 or not self.exports or not self._listening():
            assert self.proc.poll() is None, self.text
            assert time.monotonic() < deadline, self.text
            time.sleep(0.1)

    def _listening(self) -> bool:
        try:
            return httpx.get(f"{self.hub.http}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def text(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    @property
    def tokens(self) -> dict[str, str]:
        return dict(TOKEN_LINE.findall(self.text))

    @property
    def exports(self) -> dict[str, str]:
        return dict(EXPORT_LINE.findall(self.text))

    def stop(self) -> None:
        terminate(self.proc)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo")
    running = Demo(workdir, workdir / "guardia-demo")
    running.start()
    yield running
    running.stop()


def guardia(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")}
    return subprocess.run(
        [str(BIN / "guardia"), *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def press_first(client: ChatClient, room: str, frame: dict[str, Any]) -> None:
    button = frame["interactive_actions"][0]
    await client.send(msg_type="ACTION", room_id=room, action_id=button["action_id"])


async def run_to_the_end(
    demo: Demo, alice: ChatClient, bob: ChatClient, room: str, text: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Say `text` as alice and do what a person would until it finishes: press the bot's
    first button when it offers or asks, approve as bob when asked. The plans, the end."""
    for name in re.findall(r"\S+\.war", text):  # a deploy ships the file the demo made
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{demo.hub.http}/api/artifacts",
                params={"filename": name, "room_id": room},
                content=(demo.data / name).read_bytes(),
                headers={"Authorization": f"Bearer {demo.tokens['alice']}"},
            )
        assert response.status_code == 201, response.text
    ref = await alice.send(msg_type="CHAT", room_id=room, content=text)
    plans: list[dict[str, Any]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        frame = await alice.recv(timeout=60)
        kind = frame["msg_type"]
        assert not (kind == "ERROR" and frame.get("ref") == ref), frame
        if frame.get("room_id") != room:
            continue
        if kind == "CHAT" and frame.get("sender_type") == "BOT" and frame["interactive_actions"]:
            await press_first(alice, room, frame)  # ping's offer, or "which system?"
        elif kind == "COMMAND_PLAN":
            plans.append(frame)
        elif kind == "APPROVAL_REQUEST":
            asked = await bob.expect("APPROVAL_REQUEST", task_id=frame["task_id"])
            [approve] = [b for b in asked["interactive_actions"] if b["command_code"] == "APPROVE"]
            await bob.send(msg_type="ACTION", room_id=room, action_id=approve["action_id"])
        elif kind == "TASK_FINISHED":
            return plans, frame
    raise AssertionError(f"{text!r} in {room} did not finish; saw {alice.seen[-8:]}")


@pytest.mark.slow
async def test_every_command_the_demo_suggests_runs_as_printed(demo: Demo) -> None:
    assert f"http://127.0.0.1:{demo.port}/" in demo.text
    for _, text, _ in TRY:
        assert text in demo.text  # what the test runs is what a person reads
    await wait_online(demo.hub, "demo-agent", timeout=30)
    intents: set[str] = set()
    async with (
        chat_client(demo.hub, demo.tokens["alice"]) as alice,
        chat_client(demo.hub, demo.tokens["bob"]) as bob,
    ):
        for room in dict.fromkeys(room for room, _, _ in TRY):
            await alice.join(room)
            await bob.join(room)
        for room, text, _ in TRY:
            plans, done = await run_to_the_end(demo, alice, bob, room, text)
            assert done["status"] == "SUCCEEDED", (text, done)
            assert done["results"] and all(r["ok"] for r in done["results"]), (text, done)
            for plan in plans:
                intents.add(plan["plan"]["intent_type"])
                headline = plan["content"].splitlines()[0]
                assert "DB DB" not in headline, headline
            asked = [p["plan"]["intent_type"] for p in plans]
            if asked == ["DB_LOCK_CHECK"]:
                (result,) = done["results"]  # the stand-in client: a header and no rows
                assert result["summary"] == "no session is waiting on a lock", result
            if asked == ["DEPLOY"]:
                deployed = demo.data / "deploy" / DEMO_ARTIFACT
                assert deployed.read_bytes() == (demo.data / DEMO_ARTIFACT).read_bytes()
    assert intents >= INTENTS, f"the demo suggests no {INTENTS - intents}"


def test_the_demos_db_client_answers_the_agents_columns() -> None:
    """The stand-in for psql prints exactly the header FETCH_DB_LOCKS expects."""
    assert LOCK_COLUMNS == COLUMNS


@pytest.mark.slow
def test_the_printed_export_lines_point_the_cli_at_the_demo(demo: Demo, tmp_path: Path) -> None:
    exports = demo.exports
    assert set(exports) == {"GUARDIA_DATABASE_URL", "GUARDIA_DATA_DIR"}
    verified = guardia("audit", "verify", env=exports, cwd=tmp_path)  # another directory
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("audit chain OK: "), verified.stdout
    exported = guardia("cmdb", "export", env=exports, cwd=tmp_path)
    assert exported.returncode == 0 and "MOF-DB-01" in exported.stdout, exported.stderr
    assert not (tmp_path / "guardia.db").exists()


@pytest.mark.slow
async def test_tokens_survive_a_restart_and_a_rotated_one_is_replaced(tmp_path: Path) -> None:
    data = tmp_path / "guardia-demo"
    first = Demo(tmp_path, data)
    first.start()
    tokens = first.tokens
    exports = first.exports
    first.stop()
    kept = data / "demo-tokens.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # a data directory of an older demo, whose ops room had no scope
    await Database(exports["GUARDIA_DATABASE_URL"]).execute(
        "UPDATE rooms SET scope = NULL WHERE id = 'ops'"
    )
    rotated = guardia("user", "rotate", "bob", env=exports, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr

    second = Demo(tmp_path, data)
    second.start()
    try:
        again = second.tokens
        assert {n: again[n] for n in ("alice", "carol", "dave")} == {
            n: tokens[n] for n in ("alice", "carol", "dave")
        }
        assert again["bob"] not in (tokens["bob"], rotated.stdout.split()[-1])
        await wait_online(second.hub, "demo-agent", timeout=30)
        async with httpx.AsyncClient() as http:
            for name, token in again.items():
                answer = await http.get(
                    f"{second.hub.http}/api/rooms", headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 200, (name, answer.text)
        async with chat_client(second.hub, tokens["alice"]) as alice:  # the old token
            await alice.join("ops")
            await alice.send(msg_type="CHAT", room_id="ops", content="@guardia ping")
            offer = await alice.expect("CHAT", sender_type="BOT")
        assert offer["interactive_actions"], offer  # ops has its scope again: commands run
    finally:
        second.stop()


@pytest.mark.slow
def test_a_second_demo_on_a_busy_port_says_so_before_anything(demo: Demo, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "guardia"), "demo", "--port", str(demo.port), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"127.0.0.1:{demo.port} is in use" in done.stderr
    assert "gu_" not in done.stdout + done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="module")
async def test_a_browser_signed_in_to_the_demo_stays_signed_in_after_a_restart(
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    """As a new user: paste alice's printed token, tick "remember", ask for DB locks; stop
    the demo and start it again; the same browser, reloaded, is still alice."""
    first = Demo(tmp_path, tmp_path / "guardia-demo")
    first.start()
    person = await new_window(browser, locale="ko-KR")
    page = person.page
    try:
        await wait_online(first.hub, "demo-agent", timeout=30)
        await page.goto(f"{first.hub.http}/#budget")
        await page.fill("#signin-token", first.tokens["alice"])
        await page.check("#signin-remember")
        await page.click("#signin-form button[type=submit]")
        await expect(page.locator("#me-name")).to_have_text("alice")
        await page.fill("#composer-text", "@guardia 예산시스템 DB 락 조회해줘")
        await page.press("#composer-text", "Enter")
        plan = person.timeline("budget").locator('.card[data-kind="plan"]').last
        await expect(plan.locator(".card-lead")).to_have_text("예산시스템 (BUDGET) DB 락 조회")
        result = person.timeline("budget").locator('.card[data-kind="result"]').last
        await expect(result).to_have_attribute("data-status", "SUCCEEDED")
        await expect(result.locator(".result-node-name")).to_have_text(["MOF-DB-01"])
        first.stop()

        again = Demo(tmp_path, tmp_path / "guardia-demo", port=first.port)
        again.start()
        try:
            await page.reload()
            await expect(page.locator("#conn-status")).to_have_attribute("data-state", "online")
            await expect(page.locator("#me-name")).to_have_text("alice")
            await expect(page.locator("#signin")).to_be_hidden()
        finally:
            again.stop()
        person.assert_no_errors("WebSocket", "Failed to load resource")
    finally:
        first.stop()
        await person.close()
