"""`GET /metrics` on a real hub: the counters move by exactly what happened (a command run by
a real agent, rejected sign-ins, a slow reader), and prometheus_client's parser reads it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from harness import AgentProcess, ChatClient, Database, HubProcess, chat_client
from prometheus_client.parser import text_string_to_metric_families
from test_hub_agents import CMDB, agent_yaml, wait_online
from test_hub_slow_reader import tiny_socket

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(hub: HubProcess, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as client:
        response = await client.get(hub.http + "/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
async def lab(
    sqlite_db: Database, tmp_path: Path
) -> AsyncIterator[tuple[HubProcess, AgentProcess, Database]]:
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("lab", "LAB")
    token = await sqlite_db.add_agent("lab-agent")
    (tmp_path / "hub").mkdir()
    hub = HubProcess(sqlite_db, tmp_path / "hub")
    await hub.start()
    agent = AgentProcess(hub, "lab-agent", token, agent_yaml(hub, tmp_path), tmp_path)
    agent.start()
    try:
        await wait_online(hub, "lab-agent")
        yield hub, agent, sqlite_db
    finally:
        agent.stop()
        hub.stop()


async def test_a_command_moves_each_counter_by_what_it_did(
    lab: tuple[HubProcess, AgentProcess, Database],
) -> None:
    hub, _agent, db = lab
    token = await db.add_user("op", "operator:LAB")
    async with chat_client(hub, token) as client:
        joined = await client.join("lab")
        before = await scrape(hub)
        seen_before = len(client.seen)
        await client.send(
            msg_type="CHAT", room_id="lab", content="@guardia 실험시스템 상태 확인해줘"
        )
        plan = await client.expect("COMMAND_PLAN")
        await client.expect("TASK_FINISHED", task_id=plan["task_id"], timeout=20)
        with contextlib.suppress(TimeoutError):  # whatever else the room gets, then quiet
            while True:
                await client.recv(timeout=1.0)
        after = await scrape(hub)
        stored = [f for f in client.seen[seen_before:] if isinstance(f.get("seq"), int)]

    assert plan["plan"]["intent_type"] == "STATUS"
    assert (
        moved(before, after, "guardia_commands_total", intent="STATUS", outcome="dispatched") == 1
    )
    assert (
        sum(v for (n, _), v in after.items() if n == "guardia_commands_total")
        - sum(v for (n, _), v in before.items() if n == "guardia_commands_total")
        == 1
    )
    assert moved(before, after, "guardia_command_parse_seconds_count", parser="builtin") == 1
    assert moved(before, after, "guardia_command_plan_seconds_count") == 1
    for old, new in (
        ("NEW", "QUEUED"),
        ("QUEUED", "DISPATCHED"),
        ("DISPATCHED", "RUNNING"),
        ("RUNNING", "SUCCEEDED"),
    ):
        assert (
            moved(before, after, "guardia_task_transitions_total", from_state=old, to_state=new)
            == 1
        ), (old, new)
    assert moved(before, after, "guardia_task_dispatch_seconds_count", approval="no") == 1
    assert moved(before, after, "guardia_task_finish_seconds_count", state="SUCCEEDED") == 1
    assert value(after, "guardia_tasks", state="RUNNING") == 0
    assert value(after, "guardia_tasks", state="QUEUED") == 0
    # the room: the command and every bot frame it caused, each stored once
    assert [f["seq"] for f in stored] == list(range(joined["last_seq"] + 1, stored[-1]["seq"] + 1))
    assert moved(before, after, "guardia_room_messages_stored_total") == len(stored)
    # the chat socket: one CHAT in, every frame the client read out
    assert moved(before, after, "guardia_ws_frames_received_total", endpoint="chat") == 1
    assert (
        moved(before, after, "guardia_ws_frames_sent_total", endpoint="chat")
        == len(client.seen) - seen_before
    )
    assert value(after, "guardia_ws_connections", endpoint="chat") == 1
    assert value(after, "guardia_ws_connections", endpoint="agent") == 1
    assert value(after, "guardia_agents_connected") == 1
    assert 0 <= value(after, "guardia_agent_heartbeat_age_seconds", agent_id="lab-agent") < 30
    assert moved(before, after, "guardia_db_query_seconds_count", operation="INSERT") >= 4
    # HTTP by route template: the first scrape shows in the second
    assert (
        moved(
            before,
            after,
            "guardia_http_requests_total",
            method="GET",
            route="/metrics",
            status="200",
        )
        == 1
    )


async def test_rejected_sign_ins_are_counted_by_endpoint_and_reason(hub: HubProcess) -> None:
    before = await scrape(hub)
    forged = "gu_" + "x" * 43
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with chat_client(hub, forged) as client:
            await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            hub.http + "/api/tasks", headers={"Authorization": f"Bearer {forged}"}
        )
        assert answer.status_code == 401
        await http.get(
            hub.http + "/api/tasks/T0123456789AB", headers={"Authorization": "Bearer no"}
        )
        # without GUARDIA_METRICS_TOKEN, /metrics is for loopback only: a client behind the
        # local nginx (X-Forwarded-For) is not on loopback
        relayed = await http.get(hub.http + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
        assert relayed.status_code == 403
    after = await scrape(hub)
    assert (
        moved(before, after, "guardia_auth_rejected_total", endpoint="chat", reason="invalid") == 1
    )
    assert (
        moved(before, after, "guardia_auth_rejected_total", endpoint="http", reason="invalid") == 2
    )
    assert (
        moved(before, after, "guardia_auth_rejected_total", endpoint="agent", reason="invalid") == 0
    )
    # one series per route template, not per task id
    assert (
        moved(
            before,
            after,
            "guardia_http_requests_total",
            method="GET",
            route="/api/tasks/{task_id}",
            status="401",
        )
        == 1
    )
    assert not any("T0123456789AB" in str(labels) for _, labels in after)


@pytest.mark.slow
async def test_a_slow_reader_is_counted_once_and_the_fast_one_not_at_all(
    sqlite_db: Database, tmp_path: Path
) -> None:
    hub = HubProcess(
        sqlite_db,
        tmp_path,
        GUARDIA_SEND_QUEUE_BYTES=str(256 * 1024),
        GUARDIA_WRITE_BATCH="16",  # one broadcast burst stays well under a queue
        GUARDIA_RATE_PER_SECOND="1000000",
        GUARDIA_RATE_BURST="1000000",
    )
    await hub.start()
    try:
        await sqlite_db.add_room("big")
        sender, reader, sleeper = [await sqlite_db.add_user(n, "viewer") for n in "abc"]
        before = await scrape(hub)
        slow = await websockets.connect(
            hub.ws + "/ws/chat",
            additional_headers={"Authorization": f"Bearer {sleeper}"},
            sock=tiny_socket(hub.port),
            max_queue=1,
        )
        await slow.recv()  # HELLO
        await slow.send('{"v":1,"msg_type":"JOIN","room_id":"big"}')
        await slow.recv()  # JOINED; from here on it reads nothing
        async with chat_client(hub, sender) as a, chat_client(hub, reader) as b:
            await a.join("big")
            await b.join("big")

            async def drain(client: ChatClient) -> None:
                for _ in range(600):
                    await client.expect("CHAT", timeout=60)

            readers = [asyncio.create_task(drain(c)) for c in (a, b)]
            for i in range(600):
                await a.send(msg_type="CHAT", room_id="big", content=f"{i} " + "x" * 8000)
            await asyncio.wait_for(asyncio.gather(*readers), 120)
            after = await scrape(hub)
        with contextlib.suppress(websockets.ConnectionClosed, OSError):
            await slow.close()
    finally:
        hub.stop()
    assert moved(before, after, "guardia_ws_slow_readers_dropped_total", endpoint="chat") == 1
    assert moved(before, after, "guardia_ws_rate_limited_frames_total", endpoint="chat") == 0
    assert moved(before, after, "guardia_room_messages_stored_total") == 600
    # the sleeper's socket stopped taking frames: its writer task was woken to wait for it
    assert moved(before, after, "guardia_ws_writer_wakeups_total", endpoint="chat") >= 1


async def test_readers_that_keep_up_get_room_frames_without_a_writer_wake_up(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """A frame goes straight onto a writable socket (hub/wire/connection.py): 40 messages to
    20 members are 800 frames written by the broadcast itself, not by 800 task wake-ups."""
    members, messages = 20, 40
    hub = HubProcess(sqlite_db, tmp_path)
    await hub.start()
    try:
        await sqlite_db.add_room("wide")
        tokens = [await sqlite_db.add_user(f"m{i}", "viewer") for i in range(members)]
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(chat_client(hub, t)) for t in tokens]
            for client in clients:
                await client.join("wide")
            before = await scrape(hub)
            for i in range(messages):  # one at a time: each is its own broadcast
                await clients[0].send(msg_type="CHAT", room_id="wide", content=f"line {i}")
                for client in clients:
                    await client.expect("CHAT", content=f"line {i}")
            after = await scrape(hub)
    finally:
        hub.stop()
    sent = moved(before, after, "guardia_ws_frames_sent_total", endpoint="chat")
    assert sent == members * messages
    # a task wake-up per frame per member would be 800; a stray one (the scheduler paused a
    # socket for a moment) is allowed, a wake-up per broadcast is not
    assert moved(before, after, "guardia_ws_writer_wakeups_total", endpoint="chat") < messages


async def test_rate_limited_frames_are_counted(sqlite_db: Database, tmp_path: Path) -> None:
    hub = HubProcess(sqlite_db, tmp_path, GUARDIA_RATE_PER_SECOND="1", GUARDIA_RATE_BURST="3")
    await hub.start()
    try:
        token = await sqlite_db.add_user("u", "viewer")
        async with chat_client(hub, token) as client:
            before = await scrape(hub)
            for _ in range(5):
                await client.send(msg_type="PING")
            refused = [await client.expect("ERROR", code="RATE_LIMITED") for _ in range(2)]
            after = await scrape(hub)
    finally:
        hub.stop()
    assert len(refused) == 2
    assert moved(before, after, "guardia_ws_rate_limited_frames_total", endpoint="chat") == 2


async def test_metrics_need_the_token_when_one_is_set(sqlite_db: Database, tmp_path: Path) -> None:
    secret = "metrics-secret-for-the-test"
    hub = HubProcess(sqlite_db, tmp_path, GUARDIA_METRICS_TOKEN=secret)
    await hub.start()
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.get(hub.http + "/metrics")).status_code == 401
            wrong = {"Authorization": "Bearer not-it"}
            assert (await client.get(hub.http + "/metrics", headers=wrong)).status_code == 401
        samples = await scrape(hub, secret)
        assert (
            value(samples, "guardia_auth_rejected_total", endpoint="metrics", reason="missing") == 1
        )
        assert (
            value(samples, "guardia_auth_rejected_total", endpoint="metrics", reason="invalid") == 1
        )
        await asyncio.sleep(0)
    finally:
        hub.stop()
    assert secret not in hub.log()


async def test_a_reader_that_pauses_gets_every_frame_in_order_once_it_reads_again(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """A socket whose transport pauses: the send under way is finished by the writer task,
    then what queued behind it, in order; nothing is dropped while the queue has room."""
    # 6.4 MB: past what the kernel's socket buffers hold (up to 4 MB here), under the queue
    messages, body = 800, "y" * 8000
    hub = HubProcess(
        sqlite_db,
        tmp_path,
        GUARDIA_SEND_QUEUE_BYTES=str(16 * 1024 * 1024),
        GUARDIA_RATE_PER_SECOND="1000000",
        GUARDIA_RATE_BURST="1000000",
    )
    await hub.start()
    try:
        await sqlite_db.add_room("pause")
        sender, napper = [await sqlite_db.add_user(n, "viewer") for n in ("s", "n")]
        paused = await websockets.connect(
            hub.ws + "/ws/chat",
            additional_headers={"Authorization": f"Bearer {napper}"},
            sock=tiny_socket(hub.port),
            max_queue=1,
        )
        await paused.recv()  # HELLO
        await paused.send('{"v":1,"msg_type":"JOIN","room_id":"pause"}')
        joined = orjson.loads(await paused.recv())
        assert joined["msg_type"] == "JOINED"
        before = await scrape(hub)
        async with chat_client(hub, sender) as a:
            await a.join("pause")
            for i in range(messages):  # the napper reads nothing meanwhile
                await a.send(msg_type="CHAT", room_id="pause", content=f"{i} {body}")
                await a.expect("CHAT", timeout=30)
            mid = await scrape(hub)
            seqs = []
            while len(seqs) < messages:
                frame = orjson.loads(await asyncio.wait_for(paused.recv(), 30))
                if frame["msg_type"] == "CHAT":
                    seqs.append(frame["seq"])
        await paused.close()
    finally:
        hub.stop()
    assert seqs == list(range(1, messages + 1))
    assert moved(before, mid, "guardia_ws_writer_wakeups_total", endpoint="chat") >= 1
    assert moved(before, mid, "guardia_ws_slow_readers_dropped_total", endpoint="chat") == 0
