"""Things a fault test breaks on purpose, owned by that test alone.

A private PostgreSQL cluster and a private Redis on free ports (never the machine's shared
ones, which other tests use), a network namespace joined to this one by a veth pair, and a
small tmpfs. Each has a `close()` that the fixtures call even when the test failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from harness import free_port, terminate


def is_root() -> bool:
    return os.geteuid() == 0


def run(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


class PrivatePostgres:
    """`initdb` into a temp dir and `pg_ctl` on a free port, as the postgres OS user."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise FileNotFoundError("no /usr/lib/postgresql/*/bin/pg_ctl")
        self.bin = Path(bins[-1]).parent
        # under /tmp itself: pytest's tmp_path is root's 0700 tree, which postgres cannot enter
        self.root = Path(tempfile.mkdtemp(prefix="guardia-pg-", dir="/tmp"))
        shutil.chown(self.root, "postgres", "postgres")
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        self.started = False

    def _as_postgres(self, tool: str, *args: str) -> None:
        run("runuser", "-u", "postgres", "--", str(self.bin / tool), *args)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._as_postgres(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        self.started = True

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        self.started = False

    async def create_database(self, name: str) -> str:
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    def close(self) -> None:
        if self.started:
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port, no persistence; stop and start it again on that port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with open(self.workdir / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                await asyncio.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        terminate(self.proc)
        self.proc = None

    def close(self) -> None:
        self.stop()


class VethPartition:
    """A network namespace for the agent, joined to this one by a veth pair on a /30.

    The hub listens on the address of our end; `cut()` takes our end down, so packets in
    both directions are lost (the sockets are not closed: a real partition), and `heal()`
    brings it up. Only the two interfaces made here get addresses.
    """

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.namespace = f"gfault-{tag}"
        self.our_dev, self.their_dev = f"gfh{tag}", f"gfa{tag}"
        block = random.randrange(0, 256 * 64) * 4  # a /30 in 10.251.0.0/16
        base = f"10.251.{block // 256}.{block % 256}"
        prefix = base.rsplit(".", 1)[0]
        last = int(base.rsplit(".", 1)[1])
        self.our_address = f"{prefix}.{last + 1}"
        self.their_address = f"{prefix}.{last + 2}"
        self.created = False

    def create(self) -> None:
        run("ip", "netns", "add", self.namespace)
        self.created = True
        run("ip", "link", "add", self.our_dev, "type", "veth", "peer", "name", self.their_dev)
        run("ip", "link", "set", self.their_dev, "netns", self.namespace)
        run("ip", "addr", "add", f"{self.our_address}/30", "dev", self.our_dev)
        run("ip", "link", "set", self.our_dev, "up")
        inside = ("ip", "-n", self.namespace)
        run(*inside, "addr", "add", f"{self.their_address}/30", "dev", self.their_dev)
        run(*inside, "link", "set", self.their_dev, "up")
        run(*inside, "link", "set", "lo", "up")

    @property
    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace]

    def cut(self) -> None:
        run("ip", "link", "set", self.our_dev, "down")

    def heal(self) -> None:
        run("ip", "link", "set", self.our_dev, "up")

    def close(self) -> None:
        if not self.created:
            return
        with contextlib.suppress(Exception):
            run("ip", "link", "del", self.our_dev)  # takes its peer with it
        with contextlib.suppress(Exception):
            run("ip", "netns", "del", self.namespace)
        self.created = False


class SmallDisk:
    """A tmpfs of a few MiB mounted on a directory, to fill up."""

    def __init__(self, mountpoint: Path, size: str) -> None:
        self.mountpoint = mountpoint
        self.size = size
        self.mounted = False

    def mount(self) -> None:
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        run(
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={self.size},mode=0700",
            "tmpfs",
            str(self.mountpoint),
        )
        self.mounted = True

    def fill(self, name: str = "filler") -> Path:
        """Write until ENOSPC, in smaller and smaller pieces; delete the file to free it."""
        path = self.mountpoint / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            piece = 1 << 20
            while piece:
                try:
                    os.write(fd, b"\0" * piece)
                except OSError:
                    piece //= 2
        finally:
            os.close(fd)
        return path

    def close(self) -> None:
        if self.mounted:
            with contextlib.suppress(Exception):
                run("umount", str(self.mountpoint))
            if os.path.ismount(self.mountpoint):
                with contextlib.suppress(Exception):
                    run("umount", "-l", str(self.mountpoint))
            self.mounted = False
