"""The baselines the hub is measured against (benchmarks.md), each a one-room relay.

    python bench/baselines.py b0 --port P   # bare `websockets` server, broadcast() per frame
    python bench/baselines.py b1 --port P   # bare Starlette + uvicorn relay

Every text frame a client sends goes, unchanged, to every connected client (the sender
too, as the hub does for a room member). No authentication, no storage, no parsing:
what is left is the cost of moving frames. Compression is off in both, as in the hub.
B1 also serves `/ws/echo`, where a frame goes back to its sender only: idle sockets whose
heartbeats are answered (bench/idle.py), without a relay to every other socket.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def run_b0(host: str, port: int) -> None:
    """B0: websockets' own server; `broadcast()` writes one encoded frame to every socket."""
    clients: set[ServerConnection] = set()

    async def relay(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for message in ws:
                broadcast(clients, message)
        finally:
            clients.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(relay, host, port, compression=None, max_size=1 << 20, backlog=2048):
        await stop


def b1_app() -> object:
    """B1: a Starlette WebSocket route that sends each frame to every connected socket."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    clients: set[WebSocket] = set()

    async def relay(ws: WebSocket) -> None:
        await ws.accept()
        clients.add(ws)
        try:
            while True:
                text = await ws.receive_text()
                for peer in list(clients):
                    try:
                        await peer.send_text(text)
                    except Exception:  # a peer that went away is just forgotten
                        clients.discard(peer)
        except WebSocketDisconnect:
            pass
        finally:
            clients.discard(ws)

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    return Starlette(
        routes=[
            WebSocketRoute("/ws/chat", relay),
            WebSocketRoute("/ws/echo", echo),
            WebSocketRoute("/", relay),
        ]
    )


def run_b1(host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        b1_app(),  # type: ignore[arg-type]
        host=host,
        port=port,
        ws="websockets-sansio",  # as the hub (hub/server.py)
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="off",
        backlog=2048,
    )
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("kind", choices=["b0", "b1"])
    options.add_argument("--host", default="127.0.0.1")
    options.add_argument("--port", type=int, required=True)
    args = options.parse_args(argv)
    if args.kind == "b0":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_b0(args.host, args.port))
    else:
        run_b1(args.host, args.port)


if __name__ == "__main__":
    main()
