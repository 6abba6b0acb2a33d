"""The `ssh` transport: asyncssh, one connection per node reused across steps.

Host keys are checked against the config's known_hosts and nothing else: an unknown or
changed key fails the step ("host key"), it is never learnt. Files go by SFTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncssh

from agent.config import SshNode
from agent.exceptions import HostKeyError, TransportError
from agent.log_follow import MAX_LINE_BYTES
from agent.transport import (
    MAX_STDERR_BYTES,
    MAX_STDOUT_BYTES,
    CommandResult,
    FileInfo,
    TailBuffer,
    Transport,
    UploadProgress,
)

log = logging.getLogger("guardia.agent.ssh")


class SshTransport(Transport):
    def __init__(
        self, node: str, config: SshNode, *, known_hosts: Path, connect_timeout: float
    ) -> None:
        super().__init__(node)
        self.config = config
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return f"{self.node} ({self.config.user}@{self.config.host}:{self.config.port})"

    async def connection(self) -> asyncssh.SSHClientConnection:
        """The node's connection, opened on first use and again after it dropped."""
        async with self._lock:
            if self._connection is not None and not self._connection.is_closed():
                return self._connection
            self._sftp = None
            self._connection = await self._connect()
            return self._connection

    async def _connect(self) -> asyncssh.SSHClientConnection:
        node = self.config
        # no key_file: the agent's default keys and ssh-agent, as ssh(1) would use
        key_file = [str(node.key_file)] if node.key_file is not None else None
        try:
            return await asyncssh.connect(
                node.host,
                node.port,
                username=node.user,
                known_hosts=str(self.known_hosts),
                client_keys=key_file or (),
                agent_path=None if key_file else (),
                config=None,
                connect_timeout=self.connect_timeout,
                keepalive_interval=30,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            raise HostKeyError(
                f"host key of {self.where} is unknown or has changed: refused "
                f"({exc.reason}); if the server was reinstalled, update {self.known_hosts}"
            ) from None
        except asyncssh.PermissionDenied as exc:
            raise TransportError(f"ssh login to {self.where} refused: {exc.reason}") from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            raise TransportError(f"cannot reach {self.where} by ssh: {reason}") from None

    async def sftp(self) -> asyncssh.SFTPClient:
        connection = await self.connection()
        if self._sftp is None:
            try:
                self._sftp = await connection.start_sftp_client()
            except (asyncssh.Error, OSError) as exc:
                raise TransportError(f"cannot start SFTP on {self.where}: {exc}") from None
        return self._sftp

    async def run(self, command: str, *, stdin: bytes | None = None) -> CommandResult:
        connection = await self.connection()
        try:
            process = await connection.create_process(command, encoding=None)
        except (asyncssh.Error, OSError) as exc:
            raise TransportError(f"cannot run a command on {self.where}: {exc}") from None
        out, err = TailBuffer(MAX_STDOUT_BYTES), TailBuffer(MAX_STDERR_BYTES)
        try:
            if stdin is not None:
                process.stdin.write(stdin)
            process.stdin.write_eof()
            await asyncio.gather(out.drain(process.stdout), err.drain(process.stderr))
            completed = await process.wait()
        except (asyncssh.Error, OSError) as exc:
            process.close()
            raise TransportError(f"ssh connection to {self.where} lost: {exc}") from None
        except BaseException:
            # a timeout or a cancel: stop the remote command, not only our side of it
            with contextlib.suppress(Exception):
                process.kill()
            process.close()
            raise
        exit_code = completed.exit_status
        if exit_code is not None and exit_code < 0:
            exit_code = None  # killed by a signal
        return CommandResult(exit_code, out.text(), err.text())

    async def upload(self, local: Path, remote: str, progress: UploadProgress) -> None:
        sftp = await self.sftp()
        loop = asyncio.get_running_loop()
        pending: list[asyncio.Future[None]] = []

        def handler(source: bytes, target: bytes, sent: int, total: int) -> None:
            pending.append(asyncio.ensure_future(progress(sent, total), loop=loop))

        try:
            await sftp.put(str(local), remote, progress_handler=handler)
        except (asyncssh.Error, OSError) as exc:
            raise TransportError(f"SFTP upload to {remote} on {self.where} failed: {exc}") from None
        finally:
            await asyncio.gather(*pending, return_exceptions=True)

    async def stat(self, path: str) -> FileInfo | None:
        sftp = await self.sftp()
        try:
            attrs = await sftp.stat(path)
        except asyncssh.SFTPNoSuchFile:
            return None
        except asyncssh.SFTPError as exc:
            raise TransportError(f"cannot stat {path} on {self.where}: {exc.reason}") from None
        return FileInfo(size=attrs.size or 0, mode=(attrs.permissions or 0) & 0o7777)

    async def chmod(self, path: str, mode: int) -> None:
        sftp = await self.sftp()
        await self._sftp_op(f"chmod {path}", sftp.chmod(path, mode))

    async def rename(self, source: str, target: str) -> None:
        sftp = await self.sftp()
        await self._sftp_op(f"rename {source} {target}", sftp.posix_rename(source, target))

    async def link(self, source: str, target: str) -> None:
        sftp = await self.sftp()
        await self.remove(target)
        await self._sftp_op(f"link {source} {target}", sftp.link(source, target))

    async def remove(self, path: str) -> None:
        sftp = await self.sftp()
        try:
            await sftp.remove(path)
        except asyncssh.SFTPNoSuchFile:
            pass
        except asyncssh.SFTPError as exc:
            raise TransportError(f"cannot remove {path} on {self.where}: {exc.reason}") from None

    @contextlib.asynccontextmanager
    async def tcp_endpoint(self, host: str, port: int) -> AsyncIterator[tuple[str, int]]:
        """A loopback port forwarded through the node, so a health URL is checked from it."""
        connection = await self.connection()
        try:
            listener = await connection.forward_local_port("127.0.0.1", 0, host, port)
        except (asyncssh.Error, OSError) as exc:
            raise TransportError(f"cannot forward a port through {self.where}: {exc}") from None
        try:
            yield "127.0.0.1", listener.get_port()
        finally:
            listener.close()
            await listener.wait_closed()

    async def follow(self, path: str, opened: Callable[[], None]) -> AsyncGenerator[str, None]:
        """`tail -F -n 0` on the node over the node's SSH connection: GNU tail follows
        rotation by rename and by truncation there. Ends with TransportError when the
        connection or tail goes; lines written until it is back are not seen."""
        connection = await self.connection()
        try:
            process = await connection.create_process(
                f"exec tail -F -n 0 -- {shlex.quote(path)} 2>/dev/null", encoding=None
            )
        except (asyncssh.Error, OSError) as exc:
            raise TransportError(f"cannot follow {path} on {self.where}: {exc}") from None
        try:
            opened()
            async for raw in process.stdout:
                yield raw[:MAX_LINE_BYTES].rstrip(b"\r\n").decode("utf-8", errors="replace")
        except (asyncssh.Error, OSError) as exc:
            raise TransportError(f"following {path} on {self.where} stopped: {exc}") from None
        finally:
            with contextlib.suppress(Exception):
                process.kill()
            process.close()
        raise TransportError(f"tail -F {path} on {self.where} ended")

    async def _sftp_op(self, what: str, operation: Awaitable[None]) -> None:
        try:
            await operation
        except asyncssh.SFTPError as exc:
            raise TransportError(f"{what} failed on {self.where}: {exc.reason}") from None

    async def close(self) -> None:
        async with self._lock:
            connection, self._connection, self._sftp = self._connection, None, None
        if connection is not None:
            connection.close()
            with contextlib.suppress(Exception):
                await connection.wait_closed()
