"""Redis latency: the backplane's client, with the calls it awaits timed by name.

One wrapper around `redis.asyncio.Redis` instead of a timer at each call site: the backplane
stays as it is, and every call of the names below lands in guardia_redis_call_seconds (and
guardia_redis_errors_total when it fails). Anything else passes through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.ops import metrics

TIMED = ("publish", "set", "get", "delete", "exists", "ping")


def _timed(call: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        with metrics.redis_call(call):
            return await method(*args, **kwargs)

    return timed


class TimedRedis:
    """Delegates to a Redis client; the calls named in TIMED are timed."""

    def __init__(self, client: Any) -> None:
        self._client = client
        for call in TIMED:  # bound once: no allocation per call beyond the coroutine
            setattr(self, call, _timed(call, getattr(client, call)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
