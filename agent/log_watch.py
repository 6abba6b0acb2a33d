"""The `watch:` entries of agent.yaml at work: follow a log, match its lines, make events.

One LogWatch per entry: its transport follows the file (agent/log_follow.py locally, `tail
-F` over SSH), a LogMatcher (agent/log_match.py) decides which lines become events, and each
finished draft becomes an AGENT_EVENT handed to the EventDelivery. Losing the node (an SSH
drop) is no end: the watch follows again after a backoff. Lines are read by a pump task into
a queue, so that waiting for a draft's context never cancels the follower mid-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from agent.backoff import backoff
from agent.config import AgentConfig, WatchConfig
from agent.exceptions import TransportError
from agent.log_match import Draft, LogMatcher
from agent.transport_pool import TransportPool
from protocol import AgentEvent

log = logging.getLogger("guardia.agent.watch")

EventSink = Callable[[AgentEvent], Awaitable[None]]
#: lines read ahead of the matcher, at most (the follower waits beyond it)
QUEUE_LINES = 10_000


class LogWatch:
    def __init__(
        self,
        watch: WatchConfig,
        config: AgentConfig,
        transports: TransportPool,
        sink: EventSink,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watch = watch
        self.path = watch.log_path(config)
        self._transports = transports
        self._sink = sink
        self._clock = clock
        self.matcher = LogMatcher(watch.patterns, watch.min_interval, watch.context_lines)
        #: set while the file is being followed (tests and the log wait for it)
        self.following = asyncio.Event()

    @property
    def name(self) -> str:
        return f"{self.watch.service} log {self.path} on {self.watch.node}"

    async def run(self) -> None:
        """Follow for ever: a lost node or a failing read is retried after a backoff."""
        delays = backoff(1.0, 60.0)
        while True:
            try:
                await self._follow()
            except TransportError as exc:
                log.warning("watch of %s: %s", self.name, exc.message)
            except Exception:
                log.exception("watch of %s failed", self.name)
            self.following.clear()
            delay = next(delays)
            log.info("watch of %s: following again in %.1f s", self.name, delay)
            await asyncio.sleep(delay)

    async def _follow(self) -> None:
        queue: asyncio.Queue[str | Exception] = asyncio.Queue(QUEUE_LINES)
        pump = asyncio.create_task(self._pump(queue), name=f"watch-{self.watch.node}")
        try:
            while True:
                deadline = self.matcher.next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - self._clock())
                try:
                    async with asyncio.timeout(timeout):
                        item = await queue.get()
                except TimeoutError:
                    await self._emit(self.matcher.tick(self._clock()))
                    continue
                if isinstance(item, Exception):
                    raise item
                await self._emit(self.matcher.line_received(item, self._clock()))
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    async def _pump(self, queue: asyncio.Queue[str | Exception]) -> None:
        transport = self._transports.get(self.watch.node)
        try:
            lines = transport.follow(self.path, self._opened)
            async with contextlib.aclosing(lines):
                async for line in lines:
                    await queue.put(line)
            raise TransportError(f"following {self.path} ended")
        except Exception as exc:
            await queue.put(exc)

    def _opened(self) -> None:
        self.following.set()
        log.info("watching %s for %s", self.name, ", ".join(map(repr, self.watch.patterns)))

    async def _emit(self, drafts: list[Draft]) -> None:
        for draft in drafts:
            await self._sink(self.event(draft))

    def event(self, draft: Draft) -> AgentEvent:
        watch = self.watch
        ago = max(0.0, self._clock() - draft.matched_at)
        occurred = datetime.now(UTC) - timedelta(seconds=ago)
        return AgentEvent(
            event_id=uuid.uuid4().hex,
            node=watch.node,
            service=watch.service,
            severity=watch.severity,
            title=f"{watch.node} {watch.service}: {draft.lines[0].strip()}"[:200],
            lines=draft.lines,
            pattern=draft.pattern,
            path=self.path,
            occurred_at=occurred.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            folded=draft.folded,
        )


class LogWatches:
    """Every watch of the config, started and stopped together."""

    def __init__(self, config: AgentConfig, transports: TransportPool, sink: EventSink) -> None:
        self.watches = [LogWatch(w, config, transports, sink) for w in config.watch]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(w.run(), name=f"watch-{w.watch.node}-{w.watch.service}")
            for w in self.watches
        ]

    async def following(self) -> None:
        """Wait until every watch follows its file."""
        await asyncio.gather(*(w.following.wait() for w in self.watches))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
