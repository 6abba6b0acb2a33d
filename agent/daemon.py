"""The daemon's life, after uvicorn's server.py: startup, main loop, graceful shutdown.

SIGINT/SIGTERM: stop taking tasks, give running ones `shutdown_grace` seconds (results still
go to the hub if the link is up), cancel the rest (CANCELLED, kept in the outbox), close the
link with 1001, close SSH connections and the outbox. A second signal skips the grace.
The original signal handlers are restored on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent import __version__
from agent.backoff import Stop
from agent.catalog import CATALOG
from agent.config import AgentConfig
from agent.event_delivery import EventDelivery
from agent.hub_address import HubAddress
from agent.hub_key import outbox_path
from agent.link import HubChannel, HubLink
from agent.log_watch import LogWatches
from agent.metrics import AgentMetrics
from agent.metrics_server import MetricsServer
from agent.outbox import Outbox
from agent.step import ActionSpec
from agent.task_checks import TaskChecker
from agent.task_runner import TaskRunner
from agent.transport_pool import TransportPool
from protocol.signing import public_key_fingerprint

log = logging.getLogger("guardia.agent")

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class AgentSettings:
    agent_id: str
    token: str = field(repr=False)
    hub: HubAddress
    config: AgentConfig
    #: the pinned hub key (agent/hub_key.py): no agent runs without one
    hub_key: Ed25519PublicKey
    #: serve /metrics and /healthz on 127.0.0.1:PORT (0: any free port); None: not at all
    metrics_port: int | None = None

    def outbox_path(self) -> Path:
        return outbox_path(self.config, self.agent_id)


class AgentDaemon:
    def __init__(
        self, settings: AgentSettings, *, catalog: Mapping[str, ActionSpec[Any]] = CATALOG
    ) -> None:
        self.settings = settings
        self.config = settings.config
        self.catalog = catalog
        #: set when the hub closed for good; the CLI prints its reason
        self.stop_reason: Stop | None = None
        self._exit: asyncio.Event | None = None
        self._force_exit: asyncio.Event | None = None
        self.outbox: Outbox | None = None
        self.transports: TransportPool | None = None
        self.runner: TaskRunner | None = None
        self.link: HubLink | None = None
        self.events: EventDelivery | None = None
        self.watches: LogWatches | None = None
        self.metrics = AgentMetrics()
        self.metrics_server: MetricsServer | None = None
        self._link_task: asyncio.Task[Stop | None] | None = None
        self.started = asyncio.Event()

    def run(self) -> int:
        return asyncio.run(self.serve())

    async def serve(self, *, handle_signals: bool = True) -> int:
        """Run until a signal, request_exit(), or a final close; the process exit code."""
        self._exit = asyncio.Event()
        self._force_exit = asyncio.Event()
        signals = self.capture_signals() if handle_signals else contextlib.nullcontext()
        with signals:
            await self.startup()
            try:
                return await self.main_loop()
            finally:
                await self.shutdown()

    def request_exit(self) -> None:
        if self._exit is not None:
            self._exit.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        original = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
        for sig in HANDLED_SIGNALS:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig, handler in original.items():
                loop.remove_signal_handler(sig)
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        assert self._exit is not None and self._force_exit is not None
        if self._exit.is_set():
            log.warning("second %s: cancelling running tasks now", signal.Signals(sig).name)
            self._force_exit.set()
        else:
            log.info(
                "%s: shutting down (again to cancel running tasks at once)",
                signal.Signals(sig).name,
            )
            self._exit.set()

    async def startup(self) -> None:
        settings, config = self.settings, self.config
        self.outbox = await Outbox.open(
            settings.outbox_path(),
            max_results=config.outbox_max_results,
            max_events=config.outbox_max_events,
        )
        self.outbox.on_counts = self.metrics.outbox_changed
        self.metrics.outbox_changed(*await self.outbox.counts())
        self.transports = TransportPool(config)
        channel = HubChannel()
        self.runner = TaskRunner(
            config=config,
            catalog=self.catalog,
            checker=TaskChecker(config, self.catalog, settings.hub_key, settings.agent_id),
            outbox=self.outbox,
            transports=self.transports,
            hub=settings.hub,
            send=channel.send,
            metrics=self.metrics,
        )
        await self.runner.recover_interrupted()
        self.events = EventDelivery(self.outbox, channel.send_ready, self.metrics)
        self.watches = LogWatches(config, self.transports, self.events.event_made)
        actions = config.allowed_actions(list(self.catalog))
        self.link = HubLink(
            address=settings.hub,
            agent_id=settings.agent_id,
            token=settings.token,
            config=config,
            actions=actions,
            runner=self.runner,
            channel=channel,
            events=self.events,
            metrics=self.metrics,
        )
        if settings.metrics_port is not None:
            link = self.link
            self.metrics_server = MetricsServer(
                self.metrics, settings.metrics_port, lambda: link.state.value
            )
            await self.metrics_server.start()
            log.info("metrics on http://127.0.0.1:%d/metrics", self.metrics_server.port)
        log.info(
            "guardia-agent %s: id %s, hub %s (key %s), %d node(s), %d log watch(es), "
            "actions %s, outbox %s",
            __version__,
            settings.agent_id,
            settings.hub.ws_url,
            public_key_fingerprint(settings.hub_key),
            len(config.nodes),
            len(config.watch),
            ",".join(actions),
            self.outbox.path,
        )
        self.started.set()

    async def main_loop(self) -> int:
        assert self.link is not None and self._exit is not None
        if self.watches is not None:
            self.watches.start()
        self._link_task = asyncio.create_task(self.link.run(), name="hub-link")
        exit_requested = asyncio.create_task(self._exit.wait())
        try:
            await asyncio.wait(
                {self._link_task, exit_requested}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            exit_requested.cancel()
        if self._link_task.done():
            self.stop_reason = self._link_task.result()
            if self.stop_reason is not None:
                log.error("stopping: %s", self.stop_reason.reason)
                return self.stop_reason.exit_code
        return 0

    async def shutdown(self) -> None:
        if self.watches is not None:
            await self.watches.stop()
        if self.runner is not None:
            assert self._force_exit is not None
            await self.runner.stop(self.config.shutdown_grace, force=self._force_exit)
        if self.link is not None:
            await self.link.stop()
        if self._link_task is not None:
            with contextlib.suppress(Exception):
                await self._link_task
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        if self.transports is not None:
            await self.transports.close()
        if self.outbox is not None:
            await self.outbox.close()
        log.info("stopped")
