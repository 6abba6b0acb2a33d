"""AGENT_EVENT from a real websockets client speaking the agent protocol: stored as an
incident before EVENT_ACK, a card in the node's room, redelivery not counted twice, and
an event about a node the agent does not serve refused."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import websockets
from harness import ChatClient, Database, chat_client
from intake_support import IntakeLab, running_lab


class AgentClient(ChatClient):
    """The agent's side of /ws/agent, frame by frame."""

    async def hello(self, agent_id: str, nodes: list[str]) -> None:
        await self.send(
            msg_type="AGENT_HELLO", agent_id=agent_id, version="test", actions=[], nodes=nodes
        )
        await self.expect("WELCOME")

    async def event(self, node: str, event_id: str | None = None, **extra: Any) -> str:
        frame = {
            "event_id": event_id or os.urandom(6).hex(),
            "node": node,
            "service": "tomcat",
            "source": "log_watch",
            "severity": "HIGH",
            "title": "java.lang.OutOfMemoryError: Java heap space",
            "lines": [
                "2026-11-03 10:00:01.117 ERROR [http-nio-8080-exec-7] o.a.c.c.C.[dispatcherServlet]",
                "java.lang.OutOfMemoryError: Java heap space",
            ],
            "pattern": "OutOfMemoryError",
            "path": "/opt/tomcat/logs/catalina.out",
            "occurred_at": "2026-11-03T01:00:01Z",
            **extra,
        }
        return await self.send(msg_type="AGENT_EVENT", **frame)


@contextlib.asynccontextmanager
async def agent_socket(lab: IntakeLab, token: str) -> AsyncIterator[AgentClient]:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(lab.hub.ws + "/ws/agent", additional_headers=headers) as ws:
        yield AgentClient(ws)


async def test_a_log_event_is_stored_then_acknowledged_and_becomes_a_card(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        token = await any_db.add_agent("mof-agent")
        async with (
            chat_client(lab.hub, lab.users["alice"]) as alice,
            agent_socket(lab, token) as agent,
        ):
            await alice.join("budget")
            await agent.hello("mof-agent", ["MOF-WAS-01", "MOF-DB-01", "MOF-WAS-09"])
            await agent.event("MOF-WAS-01", "evt-1")
            ack = await agent.expect("EVENT_ACK")
            assert ack["event_id"] == "evt-1"
            # acknowledged means stored: the incident is there the moment the ack is
            [row] = await lab.incidents()
            assert (row["node"], row["source"], row["severity"]) == ("MOF-WAS-01", "agent", "HIGH")
            card = await alice.expect("ALERT", alert_id=row["alert_id"])
            assert card["room_id"] == "budget"
            assert [b["command_code"] for b in card["interactive_actions"]] == [
                "TAIL_LOG",
                "ACK_ALERT",
            ]
            assert "catalina.out" in card["summary"]

            await agent.event("MOF-WAS-01", "evt-1")  # redelivered: its ack was lost
            assert (await agent.expect("EVENT_ACK"))["event_id"] == "evt-1"
            await agent.event("MOF-WAS-01", "evt-2")  # the same line again, a new event
            assert (await agent.expect("EVENT_ACK"))["event_id"] == "evt-2"
            [row] = await lab.incidents()
            assert row["occurrences"] == 2


async def test_an_event_about_a_node_the_agent_does_not_serve_is_refused(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        token = await any_db.add_agent("mof-agent")
        async with agent_socket(lab, token) as agent:
            # it may even claim the node in its hello: the CMDB decides whose node it is
            await agent.hello("mof-agent", ["MOF-WAS-01", "MOLIT-WAS-01"])
            for node in ("MOLIT-WAS-01", "NO-SUCH-NODE"):
                ref = await agent.event(node, f"evt-{node}")
                error = await agent.expect("ERROR", ref=ref)
                assert error["code"] == "FORBIDDEN" and node in error["message"]
            await agent.event("MOF-WAS-01", "evt-ok")
            ack = await agent.expect("EVENT_ACK")
            assert ack["event_id"] == "evt-ok"  # the refused ones were never acknowledged
            assert not [f for f in agent.seen if f["msg_type"] == "EVENT_ACK" and f is not ack]
        assert [r["node"] for r in await lab.incidents()] == ["MOF-WAS-01"]


async def test_a_bad_event_frame_is_a_bad_frame_and_the_link_stays(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        token = await any_db.add_agent("mof-agent")
        async with agent_socket(lab, token) as agent:
            await agent.hello("mof-agent", ["MOF-WAS-01"])
            ref = await agent.send(msg_type="AGENT_EVENT", event_id="e", node="MOF-WAS-01")
            error = await agent.expect("ERROR", ref=ref)
            assert error["code"] == "BAD_FRAME" and "title" in error["message"]
            await agent.send(msg_type="PING")
            await agent.expect("PONG")
        assert await lab.incidents() == []
