"""PostgreSQL restarted under chat and command load (a private cluster: the machine's
shared one on 5432 is never touched).

While it is down the hub stays alive (`/api/health` 200) but not ready (`/api/ready` 503
naming the database); senders hear that their messages could not be stored. Once it is
back: every message anyone saw stored is in the database under the seq they saw, the seqs
have no gaps or duplicates, and no task ran twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from harness import AgentProcess, ChatClient, Database, HubProcess, chat_client
from test_hub_agents import wait_online

from cmdb.database import one_session
from faults.fault_lab import fast_agent_config, seed
from faults.fault_services import PrivatePostgres

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.long]

FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "REJECTED", "EXPIRED"}


class Sender:
    """Sends CHATs at a steady pace and keeps what became of each: stored (its own frame came
    back with a seq) or refused (an ERROR naming it)."""

    def __init__(self, client: ChatClient, name: str) -> None:
        self.client, self.name = client, name
        self.sent: dict[str, str] = {}  # message_id -> content
        self.stored: dict[str, int] = {}  # content -> seq
        self.refused: dict[str, str] = {}  # message_id -> error message

    async def talk(self, stop: asyncio.Event, every: float = 0.05) -> None:
        i = 0
        while not stop.is_set():
            content = f"{self.name}-{i}"
            self.sent[await self.client.send(msg_type="CHAT", room_id="lab", content=content)] = (
                content
            )
            i += 1
            await asyncio.sleep(every)

    async def listen(self) -> None:
        while True:
            frame = await self.client.recv(timeout=3600)
            if frame["msg_type"] == "CHAT" and frame.get("sender") == self.name:
                self.stored[frame["content"]] = frame["seq"]
            elif frame["msg_type"] == "ERROR" and frame.get("ref") in self.sent:
                self.refused[frame["ref"]] = frame["message"]

    def unanswered(self) -> list[str]:
        return [
            content
            for mid, content in self.sent.items()
            if content not in self.stored and mid not in self.refused
        ]


async def poll(until: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await until():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout} s")
        await asyncio.sleep(0.2)


async def stored_rows(url: str, query: str) -> list[Any]:
    async with one_session(url) as session:
        connection = await session.connection()
        return list(await connection.execute(sa.text(query)))


async def test_postgres_restart_under_load_loses_nothing_stored_and_runs_nothing_twice(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    pg = private_postgres
    db = Database(await pg.create_database("guardia"))
    tokens = await seed(db)
    agent_token = await db.add_agent("lab-agent")
    (tmp_path / "hub").mkdir()
    hub = HubProcess(db, tmp_path / "hub")
    await hub.start()
    agent = AgentProcess(
        hub, "lab-agent", agent_token, fast_agent_config(hub, tmp_path, 0.2), tmp_path
    )
    agent.start()
    readiness: list[tuple[float, int, dict[str, Any]]] = []
    http = httpx.AsyncClient(timeout=5)

    async def ready() -> tuple[int, dict[str, Any]]:
        answer = await http.get(hub.http + "/api/ready")
        readiness.append((time.monotonic(), answer.status_code, answer.json()))
        return answer.status_code, answer.json()

    async def is_down() -> bool:
        code, body = await ready()
        return code == 503 and body["down"] == ["database"]

    async def is_ready() -> bool:
        return (await ready())[0] == 200

    try:
        await wait_online(hub, "lab-agent")
        assert await is_ready()
        async with (
            chat_client(hub, tokens["oscar"]) as oscar_ws,
            chat_client(hub, tokens["olive"]) as olive_ws,
            chat_client(hub, tokens["vic"]) as observer,
        ):
            for client in (oscar_ws, olive_ws, observer):
                await client.join("lab")
            senders = [Sender(oscar_ws, "oscar"), Sender(olive_ws, "olive")]
            stop = asyncio.Event()
            work = [asyncio.create_task(s.listen()) for s in senders]
            work += [asyncio.create_task(s.talk(stop)) for s in senders]

            async def oscar_commands() -> None:
                while not stop.is_set():
                    await oscar_ws.send(
                        msg_type="CHAT", room_id="lab", content="@guardia 실험검증계 WAS 재기동해줘"
                    )
                    await asyncio.sleep(0.7)

            work.append(asyncio.create_task(oscar_commands()))
            await asyncio.sleep(3)

            pg.stop("fast")
            await poll(is_down, 10, "/api/ready answering 503 for the database")
            assert (await http.get(hub.http + "/api/health")).status_code == 200  # alive
            await asyncio.sleep(3)
            pg.start()
            await poll(is_ready, 20, "/api/ready answering 200 again")
            await asyncio.sleep(3)
            stop.set()
            await asyncio.sleep(2)  # the last answers
            for task in work:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*work)
            observed = [
                (f["seq"], f["content"])
                for f in observer.seen
                if f["msg_type"] == "CHAT" and f.get("seq") is not None
            ]

        # every task ends, and each ran at most once
        async def tasks_settled() -> bool:
            rows = await stored_rows(db.url, "SELECT status FROM tasks")
            return all(r[0] in FINAL for r in rows)

        try:
            await poll(tasks_settled, 30, "every task reaching a final state")
        except AssertionError:
            stuck = await stored_rows(
                db.url,
                "SELECT t.id, t.status, e.from_status, e.to_status, e.cause FROM tasks t "
                "JOIN task_events e ON e.task_id = t.id WHERE t.status NOT IN "
                "('SUCCEEDED','FAILED','TIMED_OUT','CANCELLED','REJECTED','EXPIRED') ORDER BY e.id",
            )
            raise AssertionError(f"tasks left unfinished: {stuck}") from None
    finally:
        await http.aclose()
        agent.stop()
        hub.stop()

    rows = await stored_rows(
        db.url,
        "SELECT seq, msg_type, sender, frame FROM messages WHERE room_id = 'lab' ORDER BY seq",
    )
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "gaps or duplicates in the stored seqs"
    chats = {r[0]: r[3] for r in rows if r[1] == "CHAT"}
    for sender in senders:
        assert sender.stored, f"{sender.name} stored nothing"
        for content, seq in sender.stored.items():
            assert f'"content":"{content}"' in chats.get(seq, ""), f"{content} lost (seq {seq})"
        assert not sender.unanswered(), f"{sender.name}: no answer for {sender.unanswered()[:5]}"
        assert any("could not be stored" in m for m in sender.refused.values()), sender.refused
    # what the observer saw live is what is stored, in order, once
    assert [s for s, _ in observed] == sorted({s for s, _ in observed})
    for seq, content in observed:
        assert f'"content":"{content}"' in chats[seq]
    tasks = await stored_rows(db.url, "SELECT id, status FROM tasks")
    assert tasks, "no command became a task"
    assert {t[1] for t in tasks} == {"SUCCEEDED"}, tasks
    # one restart per task (each has one node): none lost, none run twice
    assert len((tmp_path / "runs.log").read_text().splitlines()) == len(tasks)
    assert any(code == 503 for _, code, _ in readiness) and readiness[-1][1] == 200
