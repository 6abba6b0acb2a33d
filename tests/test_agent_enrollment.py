"""`guardia-agent enroll` against a real HTTP server on loopback, and no start without a key.

The server plays the hub's `GET /api/agent/hub-key`: it answers the PEM to the agent token,
401 to anything else, and can be told to answer something else (another key, an error page).
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_agent_link import (
    AGENT_ID,
    HUB_KEY,
    ROOT,
    TOKEN,
    WAIT,
    FakeHub,
    finish,
    start_agent,
    step,
    task,
    write_config,
)

from agent.cli import main
from protocol.signing import (
    generate_private_key,
    load_public_key,
    public_key_fingerprint,
    public_key_to_pem,
)

HUB_PEM = public_key_to_pem(HUB_KEY.public_key())
FINGERPRINT = public_key_fingerprint(HUB_KEY.public_key())


@dataclass
class KeyServer:
    """What the hub's key endpoint answers, and the Authorization headers it was sent."""

    status: int = 200
    body: bytes = HUB_PEM
    seen: list[str | None] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    state = KeyServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append(self.headers.get("Authorization"))
            if self.path != "/api/agent/hub-key":
                status, body = 404, b"not found"
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, body = 401, b"unauthenticated"
            else:
                status, body = state.status, state.body
            self.send_response(status)
            self.send_header("Content-Type", "application/x-pem-file")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def enroll(
    server: KeyServer, *extra: str, config: Path | None = None, token: str = TOKEN
) -> list[str]:
    argv = ["enroll", "--hub", server.url, "--id", AGENT_ID, "--token", token, *extra]
    return argv + (["--config", str(config)] if config else [])


def key_config(tmp_path: Path) -> tuple[Path, Path]:
    pinned = tmp_path / "keys" / "hub.pub"
    config = tmp_path / "agent.yaml"
    config.write_text(f"hub_public_key: {pinned}\noutbox: {tmp_path / 'outbox.sqlite'}\n")
    return config, pinned


def test_enroll_checks_the_fingerprint_and_pins_the_key(
    key_server: KeyServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, pinned = key_config(tmp_path)
    assert main(enroll(key_server, "--expect-fingerprint", FINGERPRINT, config=config)) == 0
    out, err = capsys.readouterr()
    assert out == f"pinned the hub key {FINGERPRINT} at {pinned}\n"
    assert err == ""
    assert key_server.seen == [f"Bearer {TOKEN}"]
    assert pinned.read_bytes() == HUB_PEM
    assert stat.S_IMODE(pinned.stat().st_mode) == 0o644
    # again: nothing to change, and it says so
    assert main(enroll(key_server, "--expect-fingerprint", FINGERPRINT, config=config)) == 0
    assert capsys.readouterr().out == f"already pinned the hub key {FINGERPRINT} at {pinned}\n"


def test_without_a_fingerprint_the_key_is_pinned_with_a_warning_to_compare(
    key_server: KeyServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(f"outbox: {tmp_path / 'state' / 'outbox.sqlite'}\n")
    assert main(enroll(key_server, config=config)) == 0
    out, err = capsys.readouterr()
    default = tmp_path / "state" / f"agent-{AGENT_ID}.hub.pub"  # beside the outbox
    assert out == f"pinned the hub key {FINGERPRINT} at {default}\n"
    assert f"no --expect-fingerprint given: compare {FINGERPRINT}" in err
    assert load_public_key(default.read_bytes()) is not None


def test_a_wrong_fingerprint_pins_nothing(
    key_server: KeyServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, pinned = key_config(tmp_path)
    other = public_key_fingerprint(generate_private_key().public_key())
    assert main(enroll(key_server, "--expect-fingerprint", other, config=config)) == 2
    err = capsys.readouterr().err
    assert f"the hub's key has fingerprint {FINGERPRINT}, not the expected {other}" in err
    assert "nothing pinned" in err
    assert not pinned.exists() and not pinned.parent.exists()


def test_a_different_pinned_key_is_kept_unless_forced(
    key_server: KeyServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, pinned = key_config(tmp_path)
    assert main(enroll(key_server, config=config)) == 0
    new_key = generate_private_key().public_key()
    key_server.body = public_key_to_pem(new_key)
    capsys.readouterr()
    assert main(enroll(key_server, config=config)) == 2
    err = capsys.readouterr().err
    assert f"already pins a different hub key ({FINGERPRINT})" in err
    assert f"now offers {public_key_fingerprint(new_key)}" in err and "--force" in err
    assert pinned.read_bytes() == HUB_PEM
    assert main(enroll(key_server, "--force", config=config)) == 0
    assert pinned.read_bytes() == public_key_to_pem(new_key)
    assert list(pinned.parent.iterdir()) == [pinned]  # no partial file left behind


@pytest.mark.parametrize(
    ("status", "body", "token", "words"),
    [
        (200, HUB_PEM, "wrong-token", "the hub refused this agent's token (HTTP 401)"),
        (500, b"boom", TOKEN, "answered HTTP 500"),
        (200, b"<html>a login page</html>", TOKEN, "is not an Ed25519 public key in PEM"),
        (200, b"x" * 20_000, TOKEN, "over the limit"),
    ],
    ids=["bad token", "server error", "not a key", "oversize"],
)
def test_enrollment_failures_say_why_and_pin_nothing(
    key_server: KeyServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: bytes,
    token: str,
    words: str,
) -> None:
    config, pinned = key_config(tmp_path)
    key_server.status, key_server.body = status, body
    assert main(enroll(key_server, config=config, token=token)) == 2
    err = capsys.readouterr().err
    assert words in err
    assert token not in err
    assert not pinned.exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--hub", "http://hub.example:8000"], "cleartext; use wss:// or https://"),
        (["--expect-fingerprint", "MD5:abc"], "--expect-fingerprint: 'MD5:abc' is not a key"),
        (["--hub", "http://127.0.0.1:9"], "cannot fetch the hub key"),
    ],
)
def test_bad_enroll_arguments(
    key_server: KeyServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    words: str,
) -> None:
    config, pinned = key_config(tmp_path)
    assert main([*enroll(key_server, config=config), *argv]) == 2
    assert words in capsys.readouterr().err
    assert not pinned.exists()


# -- the real process -------------------------------------------------------------------


@pytest.mark.slow
async def test_no_pinned_key_no_start(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(f"outbox: {tmp_path / 'outbox.sqlite'}\n")
    hub = FakeHub()
    await hub.start()
    try:
        returncode, stderr = await finish(await start_agent(hub, config))
    finally:
        await hub.stop()
    assert returncode == 2, stderr
    assert f"no hub public key at {tmp_path / f'agent-{AGENT_ID}.hub.pub'}" in stderr
    assert f"guardia-agent enroll --hub URL --id {AGENT_ID}" in stderr
    assert hub.hellos == []  # it never dialled


@pytest.mark.slow
async def test_enroll_then_run_verifies_the_hubs_tasks(tmp_path: Path) -> None:
    """The real CLI enrolls against the hub's own address, then runs its signed tasks."""
    hub = FakeHub(hub_key_pem=HUB_PEM)
    await hub.start()
    config = write_config(tmp_path)
    pinned = tmp_path / "hub.pub"
    pinned.unlink()  # write_config pins it; here enrollment must
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")}
    env["GUARDIA_AGENT_TOKEN"] = TOKEN
    argv = [sys.executable, "-m", "agent.cli", "enroll", "--hub", hub.url, "--id", AGENT_ID]
    argv += ["--config", str(config), "--expect-fingerprint", FINGERPRINT]
    done = await asyncio.to_thread(
        subprocess.run, argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pinned the hub key {FINGERPRINT} at {pinned}\n"
    process = await start_agent(hub, config)
    try:
        await asyncio.wait_for(hub.connected.wait(), WAIT)
        await hub.send(task("e1", step("RESTART_SERVICE", service="app")))
        assert (await hub.expect("TASK_FINISHED", "e1"))["status"] == "SUCCEEDED"
        await hub.send(task("e2", step("RESTART_SERVICE", service="app")), sign=False)
        refused = await hub.expect("TASK_FINISHED", "e2")
        assert "signature refused: task e2 is not signed" in refused["content"]
    finally:
        process.terminate()
        returncode, stderr = await finish(process)
        await hub.stop()
    assert returncode == 0, stderr
    assert FINGERPRINT in stderr  # the start line names the key it checks against
