"""A cap on what one client address holds open at once.

Counted twice over, at the two places where the address is known:

- at accept (`hub/web/connection_guard.py`), for a peer that connects directly: every TCP
  connection it holds, also one that never finishes its headers;
- per request here, for everything (an ASGI middleware sees `scope["client"]` after uvicorn's
  proxy-header middleware, so behind nginx it is the X-Forwarded-For address, believed only
  from `GUARDIA_FORWARDED_ALLOW_IPS`): a WebSocket counts for its whole life, an HTTP
  request while it runs. nginx's own connections, which carry many clients, are not capped
  at accept: nginx caps them itself (`limit_conn`).
"""

from __future__ import annotations

from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

TOO_MANY = "too many connections from your address (limit {limit}); close some and retry"


class AddressCounter:
    """How many slots each address holds; `take` refuses the one over the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: Counter[str] = Counter()

    def take(self, address: str) -> bool:
        if self.limit and self._held[address] >= self.limit:
            return False
        self._held[address] += 1
        return True

    def give_back(self, address: str) -> None:
        self._held[address] -= 1
        if self._held[address] <= 0:
            del self._held[address]

    def held(self, address: str) -> int:
        return self._held[address]


class ConnectionsPerAddress:
    """ASGI middleware: 429 for an HTTP request or WebSocket over the address's cap."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.counter = AddressCounter(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] not in ("http", "websocket") or not self.counter.limit or not client:
            await self.app(scope, receive, send)
            return
        address = str(client[0])
        if not self.counter.take(address):
            await _refuse(scope, send, TOO_MANY.format(limit=self.counter.limit))
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.give_back(address)


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    body = ('{"code":"RATE_LIMITED","message":"' + message + '"}').encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"5"),
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        # without the extension a close before accept is a 403, which an agent takes as a
        # final answer; 1013 after accept says "later" to every client
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1013, "reason": message})
