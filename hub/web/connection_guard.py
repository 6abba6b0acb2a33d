"""Slow and greedy clients, stopped where uvicorn cannot: in its protocol classes.

uvicorn has no request-header timeout: `timeout_keep_alive` only runs between requests and
every byte received resets it, so a client that trickles its headers (slowloris) or opens a
TCP connection and says nothing holds the socket for ever, and ASGI middleware never sees
such a request. `guarded_protocols` returns uvicorn's h11 HTTP protocol and its sans-I/O
WebSocket protocol with two additions:

- a deadline for each request's line and headers, armed when a connection is made and when a
  kept-alive connection starts its next request, disarmed once the headers are parsed or the
  connection became a WebSocket; past it the connection is closed (408 if it sent anything);
- a cap on the connections one directly connected address holds (`AddressCounter`), taken at
  accept and given back when the socket closes, also after it became a WebSocket. Peers in
  `GUARDIA_FORWARDED_ALLOW_IPS` (nginx) are not capped here: they carry many clients, which
  `hub/web/address_limit.py` counts by their forwarded address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from hub.settings import Settings
from hub.web.address_limit import TOO_MANY, AddressCounter

log = logging.getLogger("guardia.hub.connection_guard")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _raw_response(status: bytes, text: str) -> bytes:
    body = text.encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


class TrustedProxies:
    """`GUARDIA_FORWARDED_ALLOW_IPS` as networks (`*` trusts everyone, as in uvicorn)."""

    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.networks: list[Network] = []
        for item in items:
            if item != "*":
                self.networks.append(ipaddress.ip_network(item, strict=False))

    def __contains__(self, host: str) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class ConnectionSlots:
    """Which transport holds a slot under which address, so either protocol can free it."""

    def __init__(self, limit: int, trusted: TrustedProxies) -> None:
        self.counter = AddressCounter(limit)
        self.trusted = trusted
        self._owner: dict[asyncio.BaseTransport, str] = {}

    def take(self, transport: asyncio.BaseTransport) -> bool:
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) and peer else None
        if host is None or not self.counter.limit or host in self.trusted:
            return True
        if not self.counter.take(host):
            return False
        self._owner[transport] = host
        return True

    def give_back(self, transport: asyncio.BaseTransport) -> None:
        host = self._owner.pop(transport, None)
        if host is not None:
            self.counter.give_back(host)


def guarded_protocols(
    header_timeout: float, slots: ConnectionSlots
) -> tuple[type[H11Protocol], type[WebSocketsSansIOProtocol]]:
    """uvicorn's `http=` and `ws=` classes with the header deadline and the address cap."""

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _heard: bool = False
        _refused: bool = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if not slots.take(transport):
                self._refused = True
                log.warning("refused a connection from %s: over its cap", self.client)
                refusal = TOO_MANY.format(limit=slots.counter.limit)
                transport.write(_raw_response(b"429 Too Many Requests", refusal))
                transport.close()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._deadline is None and self.conn.their_state is h11.IDLE:
                self._arm()  # a kept-alive connection starts its next request
            self._heard = True
            super().data_received(data)
            upgraded = self.transport.get_protocol() is not self
            if upgraded or self.conn.their_state is not h11.IDLE:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            slots.give_back(self.transport)
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._heard = False
            self._deadline = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _headers_too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return
            log.info("closing %s: no request headers within %g s", self.client, header_timeout)
            if self._heard:
                self.transport.write(
                    _raw_response(b"408 Request Timeout", "the request headers came too slowly")
                )
            self.transport.close()

    class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
        def connection_lost(self, exc: Exception | None) -> None:
            slots.give_back(self.transport)
            super().connection_lost(exc)

    return GuardedH11Protocol, GuardedWebSocketProtocol


def protocol_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn.Config keywords that install the guard for these settings."""
    slots = ConnectionSlots(
        settings.max_connections_per_address, TrustedProxies(settings.forwarded_allow_ips)
    )
    http, ws = guarded_protocols(settings.header_timeout, slots)
    return {"http": http, "ws": ws}
