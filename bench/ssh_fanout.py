"""SSH fan-out: deploy a 10 MiB artifact and restart on 20 sshd targets, GUARDiA vs Ansible.

    .venv/bin/python bench/ssh_fanout.py [--nodes 20] [--size-mib 10] [--runs 3] [--no-ansible]

Every target is its own OpenSSH server (/usr/sbin/sshd) on a loopback port, with its own
host key (checked by both tools against a known_hosts file) and its own directory. Per run:

- GUARDiA, parallel: one single-node DEPLOY_ARTIFACT task per target, all at once
  (max_concurrency = nodes), through the agent's TaskRunner and ssh transport: fetch from a
  loopback HTTP server standing in for the hub (bearer token, size and sha256 checked),
  SFTP upload, keep the previous file, atomic swap, restart, health (status) check.
- GUARDiA, rolling: the same as ONE task of all targets, which the agent runs one node at a
  time (its safety default for changes on several nodes); shown for scale, not compared.
- Ansible (ansible-core from PyPI, installed into /tmp/guardia-bench-ansible if missing):
  forks = nodes, gather_facts off, `copy` (backup: true) then `command`. Its SSH control
  sockets go in a fresh directory per run, so neither tool reuses connections across runs.

Prints the median of each over the runs and the ratio Ansible / GUARDiA parallel, and checks
that every target ends with the artifact's sha256 and one restart per run.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncssh

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent.catalog import CATALOG  # noqa: E402
from agent.config import AgentConfig, parse_config  # noqa: E402
from agent.hub_address import parse_hub_url  # noqa: E402
from agent.outbox import Outbox  # noqa: E402
from agent.task_checks import TaskChecker  # noqa: E402
from agent.task_runner import TaskRunner  # noqa: E402
from agent.transport_pool import TransportPool  # noqa: E402
from protocol import Message, TaskAssign, TaskFinished, TaskStep  # noqa: E402

SSHD = Path("/usr/sbin/sshd")
ANSIBLE_VENV = Path("/tmp/guardia-bench-ansible")
TOKEN = "bench-fetch-token"
FILENAME = "app.war"


@dataclass(frozen=True)
class Target:
    index: int
    port: int
    dir: Path

    @property
    def code(self) -> str:
        return f"N{self.index:02d}"

    @property
    def service(self) -> str:
        return f"app{self.index:02d}"

    @property
    def deployed(self) -> Path:
        return self.dir / "deploy" / FILENAME

    def restarts(self) -> int:
        path = self.dir / "restarts.log"
        return len(path.read_text().splitlines()) if path.exists() else 0


# -- the targets: one sshd per node ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def sshd_targets(workdir: Path, count: int) -> Iterator[tuple[list[Target], Path, Path]]:
    """`count` sshd processes; yields the targets, the user key and the known_hosts file."""
    if not SSHD.exists():
        sys.exit(f"{SSHD} is missing: apt-get install -y openssh-server")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    user_key = asyncssh.generate_private_key("ssh-ed25519")
    user_key.write_private_key(workdir / "id_ed25519")
    (workdir / "id_ed25519").chmod(0o600)
    user_key.write_public_key(workdir / "authorized_keys")
    known_hosts = workdir / "known_hosts"
    targets, processes, lines = [], [], []
    try:
        for index in range(1, count + 1):
            target = Target(index, free_port(), workdir / f"node{index:02d}")
            (target.dir / "deploy").mkdir(parents=True)
            host_key = asyncssh.generate_private_key("ssh-ed25519")
            host_key.write_private_key(target.dir / "host_key")
            (target.dir / "host_key").chmod(0o600)
            lines.append(f"[127.0.0.1]:{target.port} {host_key.export_public_key().decode()}")
            config = target.dir / "sshd_config"
            config.write_text(
                f"Port {target.port}\nListenAddress 127.0.0.1\nHostKey {target.dir / 'host_key'}\n"
                f"PidFile {target.dir / 'sshd.pid'}\n"
                f"AuthorizedKeysFile {workdir / 'authorized_keys'}\nUsePAM no\nStrictModes no\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "PermitRootLogin yes\nSubsystem sftp internal-sftp\nMaxStartups 200\n"
                "MaxSessions 200\nLogLevel ERROR\n"
            )
            log = (target.dir / "sshd.log").open("wb")
            processes.append(
                subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=log)
            )
            log.close()
            targets.append(target)
        known_hosts.write_text("".join(lines))
        for target in targets:
            wait_for_port(target.port)
        yield targets, workdir / "id_ed25519", known_hosts
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    sys.exit(f"sshd on port {port} did not start")


def reset(targets: list[Target], old: bytes) -> None:
    for target in targets:
        for leftover in target.deployed.parent.iterdir():
            leftover.unlink()
        target.deployed.write_bytes(old)


# -- the hub's artifact endpoint ----------------------------------------------------------------


#: the hub stand-in runs in its own process, as the hub would: not in the agent's GIL
ARTIFACT_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
data, token = open(sys.argv[1], "rb").read(), sys.argv[2]
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        ok = self.headers.get("Authorization") == "Bearer " + token
        body = data if ok else b"bad token"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def artifact_server(artifact: Path) -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-c", ARTIFACT_SERVER, str(artifact), TOKEN],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()


# -- GUARDiA ------------------------------------------------------------------------------------


def agent_config(targets: list[Target], key: Path, known_hosts: Path, workdir: Path) -> AgentConfig:
    user = getpass.getuser()
    nodes = "".join(
        f"  {t.code}: {{transport: ssh, host: 127.0.0.1, port: {t.port}, user: {user}, "
        f"key_file: {key}}}\n"
        for t in targets
    )
    services = "".join(
        f"  {t.service}:\n    restart: echo restarted >> {t.dir / 'restarts.log'}\n"
        f"    status: echo active\n    deploy_path: {t.dir / 'deploy'}\n"
        for t in targets
    )
    text = (
        f"known_hosts: {known_hosts}\noutbox: {workdir / 'outbox.sqlite'}\n"
        f"max_concurrency: {len(targets)}\nstep_timeout: 600\n"
        f"nodes:\n{nodes}services:\n{services}"
    )
    return parse_config(text, path="bench.yaml", known_actions=list(CATALOG))


async def guardia_run(
    config: AgentConfig, targets: list[Target], port: int, params: dict[str, Any], rolling: bool
) -> float:
    assert config.outbox is not None
    outbox = await Outbox.open(config.outbox, max_results=10_000)
    transports = TransportPool(config)  # fresh: SSH connections are part of the cost
    sent: list[Message] = []

    async def send(message: Message) -> bool:
        sent.append(message)
        return True

    runner = TaskRunner(
        config=config,
        catalog=CATALOG,
        checker=TaskChecker(config, CATALOG),
        outbox=outbox,
        transports=transports,
        hub=parse_hub_url(f"http://127.0.0.1:{port}"),
        send=send,
    )
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    steps = [
        TaskStep(action="DEPLOY_ARTIFACT", node=t.code, params={**params, "service": t.service})
        for t in targets
    ]
    groups = [steps] if rolling else [[s] for s in steps]
    stamp = time.time_ns()
    started = time.perf_counter()
    for n, group in enumerate(groups):
        task = TaskAssign(
            task_id=f"bench-{stamp}-{n}", requested_by="bench", deadline=deadline, steps=group
        )
        await runner.task_assigned(task)
    await runner.join()
    elapsed = time.perf_counter() - started
    await transports.close()
    await outbox.close()
    failed = [m for m in sent if isinstance(m, TaskFinished) and m.status != "SUCCEEDED"]
    if failed:
        sys.exit(f"GUARDiA run failed: {failed[0].results}")
    return elapsed


# -- Ansible ------------------------------------------------------------------------------------


def ansible_bin() -> Path:
    playbook = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if not playbook.exists():
        print(f"installing ansible-core into {ANSIBLE_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        subprocess.run(
            [str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"], check=True
        )
    return playbook


def ansible_files(
    targets: list[Target], key: Path, known_hosts: Path, artifact: Path, workdir: Path
) -> tuple[Path, Path]:
    inventory = workdir / "inventory.ini"
    inventory.write_text(
        "[targets]\n"
        + "".join(
            f"{t.code} ansible_host=127.0.0.1 ansible_port={t.port} node_dir={t.dir}\n"
            for t in targets
        )
        + "\n[targets:vars]\n"
        f"ansible_user={getpass.getuser()}\nansible_ssh_private_key_file={key}\n"
        f"ansible_ssh_common_args='-o UserKnownHostsFile={known_hosts}'\n"
        "ansible_python_interpreter=/usr/bin/python3\n"
    )
    playbook = workdir / "deploy.yml"
    playbook.write_text(
        "- hosts: targets\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.copy: {{src: {artifact}, dest: '{{{{ node_dir }}}}/deploy/"
        f"{FILENAME}', backup: true}}\n"
        "    - ansible.builtin.command: sh -c 'echo restarted >> {{ node_dir }}/restarts.log'\n"
    )
    return inventory, playbook


def ansible_run(binary: Path, inventory: Path, playbook: Path, forks: int, workdir: Path) -> float:
    control = Path(tempfile.mkdtemp(prefix="cp-", dir=workdir))
    env = {
        **os.environ,
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_NOCOLOR": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [str(binary), "-i", str(inventory), str(playbook), "-f", str(forks)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"Ansible run failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed


def ansible_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].split("[")[-1].rstrip("]") if out else "?"


# -- the bench ----------------------------------------------------------------------------------


def check(targets: list[Target], sha256: str, restarts: int, who: str) -> None:
    for target in targets:
        got = hashlib.sha256(target.deployed.read_bytes()).hexdigest()
        if got != sha256 or target.restarts() != restarts:
            sys.exit(f"{who}: {target.code} has sha256 {got[:12]} and {target.restarts()} "
                     f"restarts, expected {sha256[:12]} and {restarts}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-ansible", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="guardia-bench-"))
    data = os.urandom(args.size_mib * 1024 * 1024)
    sha256 = hashlib.sha256(data).hexdigest()
    artifact = workdir / FILENAME
    artifact.write_bytes(data)
    params = {"artifact_id": "bench", "filename": FILENAME, "sha256": sha256,
              "size": len(data), "fetch_token": TOKEN}  # fmt: skip
    playbook_bin = None if args.no_ansible else ansible_bin()
    times: dict[str, list[float]] = {"parallel": [], "rolling": [], "ansible": []}
    try:
        with (
            sshd_targets(workdir, args.nodes) as (targets, key, known_hosts),
            artifact_server(artifact) as port,
        ):
            config = agent_config(targets, key, known_hosts, workdir)
            files = ansible_files(targets, key, known_hosts, artifact, workdir)
            restarts = 0
            for run in range(1, args.runs + 1):
                for mode in ("parallel", "rolling"):
                    reset(targets, b"previous release\n")
                    elapsed = asyncio.run(
                        guardia_run(config, targets, port, params, mode == "rolling")
                    )
                    restarts += 1
                    check(targets, sha256, restarts, f"GUARDiA {mode}")
                    times[mode].append(elapsed)
                if playbook_bin is not None:
                    reset(targets, b"previous release\n")
                    elapsed = ansible_run(playbook_bin, *files, args.nodes, workdir)
                    restarts += 1
                    check(targets, sha256, restarts, "Ansible")
                    times["ansible"].append(elapsed)
                print(f"run {run}: " + ", ".join(
                        f"{name} {values[-1]:.2f} s" for name, values in times.items() if values
                    ), flush=True)  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    median = {name: statistics.median(v) for name, v in times.items() if v}
    rows = [
        ("GUARDiA agent, parallel (one task per node)", median["parallel"]),
        ("GUARDiA agent, rolling (one task, node by node)", median["rolling"]),
    ]
    if playbook_bin is not None:
        version = ansible_version(playbook_bin)
        rows.append((f"Ansible {version} (forks={args.nodes}, copy+command)", median["ansible"]))
    print(f"\nSSH fan-out: {args.nodes} sshd targets on loopback, {args.size_mib} MiB artifact, "
          f"median of {args.runs} run(s), {os.cpu_count()} cores")  # fmt: skip
    for label, seconds in rows:
        print(f"  {label:<48} {seconds:7.2f} s")
    if playbook_bin is not None:
        ratio = median["ansible"] / median["parallel"]
        print(f"  {'ratio Ansible / GUARDiA parallel':<48} {ratio:7.1f}x")


if __name__ == "__main__":
    main()
