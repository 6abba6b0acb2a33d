"""Every command the README and docs show runs as written, in a fresh clone.

The shell lines of the fenced `sh`/`bash`/`shell` blocks of README.md and docs/*.md run in
order, in a fresh clone (tests/test_docs_links.py), against a temporary database and data
directory (GUARDIA_DATABASE_URL, GUARDIA_DATA_DIR), with the venv's `guardia` first on
PATH, each with `bash -c` exactly as printed; each must exit 0. The exceptions are the
rules below, each with its reason: what is skipped (`pytest -rs` lists each line and why),
and the servers, which are started with their placeholders filled in, checked, and stopped.
A shell line that no rule knows and that is not a `guardia` command fails the test.

Besides the blocks, every `guardia ...` command named in the text (the commands table,
the prose) must exist with the flags it is shown with.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import httpx
import pytest
from harness import BIN, free_port, terminate
from test_docs_links import CODE_SPAN, documents, fresh_clone, prose_lines

from agent.cli import build_enroll_parser
from agent.cli import build_parser as agent_parser
from hub.cli.main import build_parser as guardia_parser

SHELLS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^\s*```(\S*)\s*$")

#: lines shown but not run here, and why (first match wins)
SKIPPED = {
    r"^pip install\b": "installs packages: the tests run in the venv ./scripts/test made "
    "(pip install -e '.[hub,agent,dev]'); tests/test_packaging.py installs .[agent] alone",
    r"^\./scripts/test\b": "the test suite itself",
    r"^\./scripts/demo\b": "installs into .venv, then runs `guardia demo` until stopped: "
    "tests/test_demo.py runs `guardia demo` and every command it suggests",
}
#: servers: started with these changes, checked, then stopped
HUB_LINE = r"^guardia-hub\b"
AGENT_LINE = r"^guardia-agent --hub\b"
ENROLL_LINE = r"^guardia-agent enroll\b"
TOKEN_LINE = r"^export GUARDIA_AGENT_TOKEN=\.\.\."
#: documented commands that do not exist yet, and why; each must still be missing
NOT_YET: dict[str, str] = {}


@dataclass(frozen=True)
class ShownCommand:
    document: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"


def shown_commands(root: Path) -> list[ShownCommand]:
    """The shell lines of the fenced shell blocks, continuation lines joined, in order."""
    found: list[ShownCommand] = []
    for path in documents(root):
        language: str | None = None
        pending, start = "", 0
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            fence = FENCE.match(line)
            if fence:
                language = None if language is not None else fence.group(1)
                continue
            if language not in SHELLS:
                continue
            if not pending:
                start = number
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            text = pending.strip()
            pending = ""
            if text and not text.startswith("#"):
                found.append(ShownCommand(str(path.relative_to(root)), start, text))
    return found


def skip_reason(command: ShownCommand) -> str | None:
    for pattern, reason in SKIPPED.items():
        if re.match(pattern, command.text):
            return reason
    return None


REPO_COMMANDS = shown_commands(Path(__file__).resolve().parents[1])


@pytest.mark.parametrize(
    "command",
    [c for c in REPO_COMMANDS if skip_reason(c)],
    ids=lambda c: f"{c.where} {c.text[:40]}",
)
def test_shown_but_not_run_here(command: ShownCommand) -> None:
    """The list of what the run below leaves out, one skip each with its reason."""
    pytest.skip(f"{command.where} `{command.text}`: {skip_reason(command)}")


def test_every_skip_rule_still_has_a_line() -> None:
    for pattern in SKIPPED:
        assert any(re.match(pattern, c.text) for c in REPO_COMMANDS), f"stale rule {pattern}"


class Servers:
    """The hub and the agent the README starts, for as long as the run lasts."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.hub_url: str | None = None

    def start(self, argv: str, env: dict[str, str], cwd: Path, log: Path) -> None:
        with open(log, "ab") as sink:
            self.procs.append(
                subprocess.Popen(
                    ["bash", "-c", f"exec {argv}"], env=env, cwd=cwd, stdout=sink, stderr=sink
                )
            )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            terminate(proc)


def wait_for(check: object, what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if callable(check) and check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s; its log:\n{log.read_text(errors='replace')}")


def agent_config(clone: Path, data: Path, work: Path) -> Path:
    """examples/agent.yaml with the paths of a customer machine (/etc/guardia, /var/lib)
    moved into the test's directory: the hub's key from its data dir, no known hosts yet,
    an SSH key of its own (the nodes are only dialled when a task runs)."""
    (work / "known_hosts").write_text("")
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(work / "id_ed25519"))
    text = (clone / "examples" / "agent.yaml").read_text(encoding="utf-8")
    text = text.replace("/etc/guardia/hub.pub", str(data / "hub.pub"))
    text = text.replace("/etc/guardia/", f"{work}/").replace("/var/lib/guardia/", f"{work}/")
    path = work / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def servers() -> Iterator[Servers]:
    running = Servers()
    yield running
    running.stop()


@pytest.mark.slow
def test_every_shown_command_runs_as_written(tmp_path: Path, servers: Servers) -> None:
    clone = fresh_clone(tmp_path)
    data = tmp_path / "data"
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIA_")}
    env |= {
        "PATH": f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        "GUARDIA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'guardia.db'}",
        "GUARDIA_DATA_DIR": str(data),
    }
    commands = shown_commands(clone)
    assert commands == [
        ShownCommand(c.document, c.line, c.text) for c in REPO_COMMANDS
    ]  # the clone shows what the repository shows
    agent_tokens: dict[str, str] = {}
    fingerprints: dict[str, str] = {}
    exported: dict[str, str] = {}  # what `export ...` lines set, for the lines after them
    ran: list[str] = []
    for command in commands:
        if skip_reason(command):
            continue
        text = command.text
        if re.match(HUB_LINE, text):
            # a free port on loopback: 0.0.0.0:8000 is for a real hub machine
            port = free_port()
            text = re.sub(r"--host \S+", "--host 127.0.0.1", text)
            text = re.sub(r"--port \d+", f"--port {port}", text)
            log = tmp_path / "hub.log"
            servers.start(text, env, clone, log)
            servers.hub_url = f"http://127.0.0.1:{port}"
            health = f"{servers.hub_url}/api/health"
            wait_for(lambda u=health: httpx.get(u).status_code == 200, "the hub answers", log)
        elif re.match(TOKEN_LINE, text):
            # the token the last `guardia agent add` printed, as the README says
            assert agent_tokens, f"{command.where}: no `guardia agent add` before it"
            exported["GUARDIA_AGENT_TOKEN"] = list(agent_tokens.values())[-1]
        elif re.match(ENROLL_LINE, text):
            assert servers.hub_url, f"{command.where}: enrolling before any hub"
            words = shlex.split(text, comments=True)
            agent_id = words[words.index("--id") + 1]
            text = re.sub(r"--hub \S+", f"--hub {servers.hub_url}", text)
            text = re.sub(r"--config \S+", f"--config {agent_config(clone, data, work)}", text)
            text = text.replace("SHA256:...", fingerprints[agent_id])
            done = subprocess.run(
                ["bash", "-c", text],
                env=env | exported,
                cwd=clone,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, f"{command.where} `{text}`:\n{done.stdout}{done.stderr}"
        elif re.match(AGENT_LINE, text):
            assert servers.hub_url, f"{command.where}: an agent before any hub"
            words = shlex.split(text, comments=True)
            agent_id = words[words.index("--id") + 1]
            assert agent_id in agent_tokens, f"{command.where}: no `guardia agent add {agent_id}`"
            text = re.sub(r"--hub \S+", f"--hub {servers.hub_url}", text)
            text = re.sub(r"--config \S+", f"--config {agent_config(clone, data, work)}", text)
            log = tmp_path / "agent.log"
            servers.start(text, env | exported, clone, log)
            health = f"{servers.hub_url}/api/health"
            wait_for(
                lambda u=health, a=agent_id: a in httpx.get(u).json().get("agents_online", []),
                f"agent {agent_id} online",
                log,
            )
        elif re.match(r"^guardia\b", text):
            done = subprocess.run(
                ["bash", "-c", text],
                env=env,
                cwd=clone,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, f"{command.where} `{text}`:\n{done.stdout}{done.stderr}"
            added = re.match(r"^guardia agent add (\S+)", text)
            if added:
                token = re.search(r"^(ga_\S+)$", done.stdout, re.MULTILINE)
                printed = re.search(r"--expect-fingerprint (SHA256:\S+)", done.stdout)
                assert token and printed, f"{command.where}: {done.stdout}"
                agent_tokens[added.group(1)] = token.group(1)
                fingerprints[added.group(1)] = printed.group(1)
        else:
            raise AssertionError(f"{command.where} `{text}`: no rule says how to run this line")
        ran.append(command.where)
    assert len(ran) >= 9, ran  # the README's set-up, its servers and `guardia parse`
    assert not (clone / "guardia.db").exists()  # everything went to the temporary database


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def flags(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def paragraphs(path: Path) -> Iterator[tuple[int, str]]:
    """(first line, text) of each paragraph of prose: a code span may cross a line break."""
    start, text, last = 0, "", -1
    for number, line in [*prose_lines(path), (-1, "")]:
        # a blank line, a gap (a code block), a table row or a list item starts anew
        if not line.strip() or number != last + 1 or re.match(r"^\s*(\||[-*] )", line):
            if text:
                yield start, text
            start, text = number, ""
        if line.strip():
            text = f"{text} {line.strip()}" if text else line.strip()
            start = start or number
        last = number


def named_commands(root: Path) -> list[tuple[str, str]]:
    """(where, code span) for each `guardia ...` command the prose of the docs names."""
    found = []
    for path in documents(root):
        for number, text in paragraphs(path):
            for span in CODE_SPAN.findall(text):
                if re.match(r"^guardia(-agent|-hub)?( |$)", span):
                    found.append((f"{path.relative_to(root)}:{number}", span))
    return found


def hub_flags() -> set[str]:
    """`guardia-hub`'s flags, from its own --help."""
    shown = subprocess.run(
        [str(BIN / "guardia-hub"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", shown.stdout))


def resolve(span: str) -> tuple[str, argparse.ArgumentParser | None]:
    """The command path a span names ("guardia user add") and its parser, if it exists."""
    words = span.replace("\\|", "|").split()
    program, rest = words[0], words[1:]
    parser: argparse.ArgumentParser | None = {
        "guardia": guardia_parser(),
        "guardia-agent": agent_parser(),
        "guardia-hub": None,
    }[program]
    path = [program]
    if program == "guardia-agent" and rest[:1] == ["enroll"]:
        return "guardia-agent enroll", build_enroll_parser()
    while parser is not None and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
        children = subcommands(parser)
        if not children:
            if not any(not a.option_strings for a in parser._actions):
                path.append(rest[0])  # a word after a command that takes none: no such command
                parser = None
            break
        path.append(rest.pop(0))
        parser = children.get(path[-1])
    return " ".join(path), parser


def test_every_command_the_docs_name_exists_with_its_flags() -> None:
    wrong, missing_now = [], set()
    for where, span in named_commands(Path(__file__).resolve().parents[1]):
        name, parser = resolve(span)
        if name in NOT_YET:
            assert parser is None, f"`{name}` exists now: take it out of NOT_YET"
            missing_now.add(name)
            continue
        if name == "guardia-hub":
            known = hub_flags()
        elif parser is None:
            wrong.append(f"{where}: `{span}`: no command `{name}`")
            continue
        else:
            known = flags(parser)
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", span):
            if flag not in known:
                wrong.append(f"{where}: `{span}`: `{name}` has no {flag}")
    assert not wrong, "commands the docs name that do not exist as shown:\n" + "\n".join(wrong)
    assert missing_now == set(NOT_YET), f"stale NOT_YET: {set(NOT_YET) - missing_now}"
