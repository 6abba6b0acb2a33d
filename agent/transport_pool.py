"""One transport per node, made on first use and kept (SSH connections are reused)."""

from __future__ import annotations

import asyncio

from agent.config import AgentConfig, SshNode
from agent.exceptions import ParamError
from agent.local_transport import LocalTransport
from agent.ssh_transport import SshTransport
from agent.transport import Transport


class TransportPool:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self._transports: dict[str, Transport] = {}

    def get(self, node: str) -> Transport:
        transport = self._transports.get(node)
        if transport is None:
            transport = self._transports[node] = self._make(node)
        return transport

    def _make(self, node: str) -> Transport:
        try:
            settings = self.config.nodes[node]
        except KeyError:
            raise ParamError(f"node {node} is not in this agent's config") from None
        if isinstance(settings, SshNode):
            assert self.config.known_hosts is not None  # the config refuses ssh without it
            return SshTransport(
                node,
                settings,
                known_hosts=self.config.known_hosts,
                connect_timeout=self.config.connect_timeout,
            )
        return LocalTransport(node)

    async def close(self) -> None:
        transports = list(self._transports.values())
        self._transports.clear()
        await asyncio.gather(*(t.close() for t in transports), return_exceptions=True)
