"""A client that stops reading is dropped once its queue is full; the room never waits."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest
import websockets
from harness import Database, HubProcess, chat_client

MEMBERS = 50
MESSAGES = 600
BODY = "x" * 8000


def tiny_socket(port: int) -> socket.socket:
    """A client socket with a small receive buffer, so a non-reader fills up quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


@pytest.mark.slow
async def test_slow_reader_is_dropped_and_the_other_49_keep_receiving(
    sqlite_db: Database, tmp_path: Path
) -> None:
    hub = HubProcess(
        sqlite_db,
        tmp_path,
        GUARDIA_SEND_QUEUE_BYTES=str(256 * 1024),
        GUARDIA_RATE_PER_SECOND="1000000",  # one sender floods on purpose here
        GUARDIA_RATE_BURST="1000000",
    )
    await hub.start()
    try:
        await sqlite_db.add_room("big")
        tokens = [await sqlite_db.add_user(f"u{i}", "viewer") for i in range(MEMBERS)]
        headers = {"Authorization": f"Bearer {tokens[-1]}"}
        slow = await websockets.connect(
            hub.ws + "/ws/chat",
            additional_headers=headers,
            sock=tiny_socket(hub.port),
            max_queue=1,
        )
        await slow.recv()  # HELLO
        await slow.send('{"v":1,"msg_type":"JOIN","room_id":"big"}')
        await slow.recv()  # JOINED; from here on it reads nothing

        async with contextlib.AsyncExitStack() as stack:
            fast = [await stack.enter_async_context(chat_client(hub, t)) for t in tokens[:-1]]
            for client in fast:
                await client.join("big")

            async def drain(client: object) -> list[int]:
                seqs = []
                while len(seqs) < MESSAGES:
                    frame = await client.expect("CHAT", timeout=60)  # type: ignore[attr-defined]
                    seqs.append(frame["seq"])
                return seqs

            readers = [asyncio.create_task(drain(c)) for c in fast]
            for i in range(MESSAGES):
                await fast[0].send(msg_type="CHAT", room_id="big", content=f"{i} {BODY}")
            results = await asyncio.wait_for(asyncio.gather(*readers), 120)

        for seqs in results:
            assert seqs == list(range(1, MESSAGES + 1))

        # the slow one was dropped: reading now, it ends before the room's last message
        got = 0
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(slow.recv(), 30)
                got += 1
        assert got < MESSAGES
        assert "send queue full" in hub.log()
    finally:
        hub.stop()
