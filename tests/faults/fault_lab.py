"""The lab of tests/test_hub_pipeline.py for fault tests: its CMDB and users, and an agent
whose heartbeat and reconnects are fast enough to see a fault and its healing in seconds."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness import BIN, AgentProcess, Database, HubProcess
from test_hub_pipeline import CMDB

USERS = {
    "oscar": ("operator:LAB",),
    "olive": ("operator:LAB",),
    "vic": ("viewer:LAB",),
}


@dataclass
class FaultLab:
    db: Database
    hub: HubProcess
    agent: AgentProcess
    workdir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def runs(self) -> list[str]:
        """One line per time the restart action ran on the agent's side."""
        log = self.workdir / "runs.log"
        return log.read_text().splitlines() if log.exists() else []


def fast_agent_config(hub: HubProcess, workdir: Path, restart_seconds: float) -> Path:
    path = workdir / "agent.yaml"
    path.write_text(
        f"hub_public_key: {hub.data_dir / 'hub.pub'}\n"
        f"outbox: {workdir / 'outbox.sqlite'}\n"
        "connect_timeout: 2\n"
        "heartbeat: {interval: 1, timeout: 2}\n"
        "reconnect: {initial_delay: 0.2, max_delay: 1}\n"
        "nodes:\n"
        + "".join(
            f"  {n}: {{transport: local}}\n"
            for n in ("LAB-WAS-01", "LAB-WAS-02", "LAB-DB-01", "LAB-STG-WAS-01")
        )
        + "services:\n"
        f"  app: {{restart: 'echo $$ >> {workdir}/runs.log && sleep {restart_seconds}', "
        "status: 'echo active'}\n"
        "  db: {status: 'echo active'}\n"
    )
    return path


def agent_flags(hub_url: str) -> list[str]:
    """`--insecure` for ws:// to a non-loopback hub, once the agent has that flag."""
    if hub_url.startswith("ws://127.") or hub_url.startswith("http://127."):
        return []
    usage = subprocess.run(
        [str(BIN / "guardia-agent"), "--help"], capture_output=True, text=True
    ).stdout
    return ["--insecure"] if "--insecure" in usage else []


async def seed(db: Database) -> dict[str, str]:
    await db.import_cmdb(CMDB)
    await db.add_room("lab", "LAB")
    return {name: await db.add_user(name, *roles) for name, roles in USERS.items()}
