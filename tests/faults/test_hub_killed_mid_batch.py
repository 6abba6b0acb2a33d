"""The hub killed (SIGKILL) while many senders flood a room and the writer commits batches.

A message is broadcast and acknowledged (its sender sees it come back with a seq) only
after its batch is committed; so after a restart every message anyone saw is stored under
the seq they saw, the stored seqs have no gaps or duplicates, and a replay from seq 0 gives
exactly the stored messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from harness import ChatClient, Database, HubProcess, chat_client
from websockets.exceptions import ConnectionClosed

from cmdb.database import one_session

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SENDERS = 8
PER_SENDER = 600
KILL_AFTER = 400  # messages the observer has seen


async def flood(client: ChatClient, name: str) -> None:
    with contextlib.suppress(ConnectionClosed, OSError):
        for i in range(PER_SENDER):
            await client.send(msg_type="CHAT", room_id="flood", content=f"{name}-{i}")


async def collect(client: ChatClient) -> None:
    with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
        while True:
            await client.recv(timeout=30)


def stored_chats(client: ChatClient) -> dict[int, str]:
    return {f["seq"]: f["content"] for f in client.seen if f["msg_type"] == "CHAT"}


async def stored_rows(url: str) -> list[tuple[int, str]]:
    async with one_session(url) as session:
        connection = await session.connection()
        rows = await connection.execute(
            sa.text("SELECT seq, frame FROM messages WHERE room_id = 'flood' ORDER BY seq")
        )
        return [(int(r[0]), str(orjson.loads(r[1])["content"])) for r in rows]


async def test_sigkill_mid_batch_keeps_every_broadcast_message_without_gaps(
    any_db: Database, tmp_path: Path
) -> None:
    await any_db.add_room("flood")
    tokens = [await any_db.add_user(f"s{i}", "viewer") for i in range(SENDERS)]
    watcher = await any_db.add_user("watcher", "viewer")
    (tmp_path / "hub").mkdir()
    hub = HubProcess(
        any_db,
        tmp_path / "hub",
        GUARDIA_RATE_PER_SECOND="1000000",  # a flood on purpose
        GUARDIA_RATE_BURST="1000000",
        GUARDIA_WRITE_BATCH="64",
    )
    await hub.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            observer = await stack.enter_async_context(chat_client(hub, watcher))
            await observer.join("flood")
            senders = [await stack.enter_async_context(chat_client(hub, t)) for t in tokens]
            for sender in senders:
                await sender.join("flood")
            listening = [asyncio.create_task(collect(c)) for c in [observer, *senders]]
            flooding = [asyncio.create_task(flood(c, f"s{i}")) for i, c in enumerate(senders)]
            while len(stored_chats(observer)) < KILL_AFTER:
                await asyncio.sleep(0.01)
            hub.kill()  # SIGKILL: no shutdown, batches in flight
            await asyncio.gather(*flooding, *listening)
        broadcast = stored_chats(observer)
        acknowledged = {
            seq: content
            for i, sender in enumerate(senders)
            for seq, content in stored_chats(sender).items()
            if content.startswith(f"s{i}-")
        }

        await hub.start()
        rows = await stored_rows(any_db.url)
        async with chat_client(hub, watcher) as late:
            await late.join("flood", after_seq=0)
            await late.expect("CHAT", seq=rows[-1][0], timeout=30)
            replayed = [(f["seq"], f["content"]) for f in late.seen if f["msg_type"] == "CHAT"]
    finally:
        hub.stop()

    seqs = [seq for seq, _ in rows]
    assert seqs == list(range(1, len(rows) + 1)), "gaps or duplicates"
    stored = dict(rows)
    assert len(stored) < SENDERS * PER_SENDER, "the kill came after the flood: nothing tested"
    for seq, content in {**broadcast, **acknowledged}.items():
        assert stored.get(seq) == content, f"seq {seq} ({content}) was seen but is not stored"
    assert replayed == rows
    # each sender's stored messages are in the order it sent them
    for i in range(SENDERS):
        numbers = [int(c.split("-")[1]) for _, c in rows if c.startswith(f"s{i}-")]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
