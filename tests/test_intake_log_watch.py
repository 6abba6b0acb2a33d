"""A log watch end to end: a real `guardia-agent` following a file on its local node, a real
hub with a CMDB and a room scoped to the node's system. A matching line becomes an ALERT card
in that room; lines written while the hub is down arrive when it is back (same port, same
database); a rotated file is followed (rename, copytruncate); an event about a node the CMDB
gives to another agent is refused once, dropped by the agent, and never sent again."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import AgentProcess, ChatClient, Database, chat_client
from intake_support import IntakeLab, running_lab, until
from test_hub_agents import wait_online

OOM = "java.lang.OutOfMemoryError: Java heap space"
TRACE = "\tat com.mof.budget.ReportService.render(ReportService.java:214)\n"


@dataclass
class WatchLab:
    lab: IntakeLab
    agent: AgentProcess
    log: Path
    other_log: Path
    outbox: Path

    def append(self, text: str, path: Path | None = None) -> None:
        with (path or self.log).open("a") as fh:
            fh.write(text)

    def outbox_events(self) -> int:
        with contextlib.closing(sqlite3.connect(self.outbox)) as db:
            return int(db.execute("SELECT count(*) FROM event").fetchone()[0])

    async def events_waiting(self, count: int) -> None:
        """Until the agent's outbox holds exactly `count` events not acknowledged."""

        async def settled() -> bool:
            return self.outbox_events() == count

        await until(settled, timeout=20)


def agent_yaml(lab: IntakeLab, workdir: Path, log: Path, other_log: Path) -> Path:
    """MOF-WAS-01 is the agent's by the CMDB; MOLIT-WAS-01 is molit-agent's, yet this agent's
    config names it too (a stale config after the node moved to another ministry's agent)."""
    path = workdir / "agent.yaml"
    path.write_text(
        f"hub_public_key: {lab.hub.data_dir / 'hub.pub'}\n"
        f"outbox: {workdir / 'outbox.sqlite'}\n"
        "reconnect: {initial_delay: 0.2, max_delay: 1}\n"
        "nodes:\n"
        "  MOF-WAS-01: {transport: local}\n"
        "  MOLIT-WAS-01: {transport: local}\n"
        "services:\n"
        f"  tomcat: {{status: 'echo active', log_path: {log}}}\n"
        "watch:\n"
        "  - node: MOF-WAS-01\n"
        "    service: tomcat\n"
        '    patterns: ["OutOfMemoryError", "SEVERE: .* failed"]\n'
        "    min_interval: 0.01\n"
        "    context_lines: 2\n"
        "  - node: MOLIT-WAS-01\n"
        "    service: tomcat\n"
        f"    path: {other_log}\n"
        '    patterns: ["OutOfMemoryError"]\n'
        "    min_interval: 0.01\n"
        "    context_lines: 0\n"
    )
    return path


@contextlib.asynccontextmanager
async def watch_lab(db: Database, tmp: Path) -> AsyncIterator[WatchLab]:
    log, other = tmp / "catalina.out", tmp / "molit-catalina.out"
    log.write_text(f"INFO started\n{OOM} (before the agent: never sent)\n")
    other.write_text("")
    async with running_lab(db, tmp) as lab:
        token = await db.add_agent("mof-agent")
        agent = AgentProcess(lab.hub, "mof-agent", token, agent_yaml(lab, tmp, log, other), tmp)
        agent.start()
        try:
            await wait_online(lab.hub, "mof-agent")

            async def following() -> bool:  # both watches have their start in their files
                return agent.log().count('"watching tomcat log') >= 2

            await until(following, timeout=20)
            yield WatchLab(lab, agent, log, other, tmp / "outbox.sqlite")
        finally:
            agent.stop()


async def card(client: ChatClient, **match: Any) -> dict[str, Any]:
    return await client.expect("ALERT", timeout=20, source="agent", **match)


async def test_a_watched_line_is_a_card_and_lines_written_while_the_hub_is_down_arrive(
    any_db: Database, tmp_path: Path
) -> None:
    async with watch_lab(any_db, tmp_path) as w:
        async with chat_client(w.lab.hub, w.lab.users["alice"]) as alice:
            await alice.join("budget")
            w.append(f"2026-11-03 10:00:01 ERROR [exec-7] render failed\n{OOM}\n{TRACE}")
            first = await card(alice)
            assert first["room_id"] == "budget" and first["asset_code"] == "MOF-WAS-01"
            assert first["title"] == f"MOF-WAS-01 tomcat: {OOM}"
            assert first["status"] == "firing" and first["severity"] == "HIGH"
            assert "ReportService.java:214" in first["summary"]  # the trace came with it
            assert str(w.log) in first["summary"]
            buttons = [b["command_code"] for b in first["interactive_actions"]]
            assert buttons == ["TAIL_LOG", "ACK_ALERT"]
            last_seq = first["seq"]
        await w.events_waiting(0)  # acknowledged: stored by the hub

        w.lab.hub.stop()
        w.append("SEVERE: Servlet.service() for servlet [dispatcher] failed\n")
        w.append(TRACE + "INFO request 9 done\n")  # its two lines of context
        await w.events_waiting(1)  # kept in the outbox while the hub is away
        w.append("java.lang.OutOfMemoryError: Metaspace\n")
        await w.events_waiting(2)

        await w.lab.hub.start()  # the same port and database: the agent dials it again
        await w.events_waiting(0)
        async with chat_client(w.lab.hub, w.lab.users["alice"]) as alice:
            await alice.join("budget", after_seq=last_seq)
            titles = set()
            while len(titles) < 2:
                titles.add((await card(alice))["title"])
        assert titles == {
            "MOF-WAS-01 tomcat: SEVERE: Servlet.service() for servlet [dispatcher] failed",
            "MOF-WAS-01 tomcat: java.lang.OutOfMemoryError: Metaspace",
        }
        rows = await w.lab.incidents()
        assert sorted(r["title"] for r in rows) == sorted([first["title"], *titles])
        assert {(r["node"], r["source"], r["room_id"]) for r in rows} == {
            ("MOF-WAS-01", "agent", "budget")
        }


async def test_a_rotated_file_is_followed_by_rename_and_by_copytruncate(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with (
        watch_lab(sqlite_db, tmp_path) as w,
        chat_client(w.lab.hub, w.lab.users["alice"]) as alice,
    ):
        await alice.join("budget")
        w.append(f"{OOM}\n")
        assert (await card(alice))["title"].endswith(OOM)

        w.log.rename(tmp_path / "catalina.out.1")  # logrotate's default: rename, new file
        w.log.write_text("java.lang.OutOfMemoryError: GC overhead limit exceeded\n")
        assert (await card(alice))["title"].endswith("GC overhead limit exceeded")

        with w.log.open("r+") as fh:  # copytruncate: the file shrinks under the reader
            fh.truncate(0)
        await asyncio.sleep(1.0)  # the watch polls every 0.25 s: let it see the truncation
        w.append("java.lang.OutOfMemoryError: unable to create native thread\n")
        assert (await card(alice))["title"].endswith("unable to create native thread")
        assert len(await w.lab.incidents()) == 3


async def test_an_event_on_a_node_the_agent_does_not_serve_is_refused_once_and_dropped(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with watch_lab(sqlite_db, tmp_path) as w:
        w.append(f"{OOM}\n", w.other_log)  # MOLIT-WAS-01: molit-agent's node by the CMDB

        async def dropped() -> bool:
            return "the hub refused event" in w.agent.log()

        await until(dropped, timeout=20)
        assert w.outbox_events() == 0  # not kept for the next connection
        log = w.agent.log()
        assert "MOLIT-WAS-01" in log and "FORBIDDEN" in log

        # the link stays, and a reconnect sends nothing refused again
        w.lab.hub.stop()
        await w.lab.hub.start()
        await wait_online(w.lab.hub, "mof-agent")
        async with chat_client(w.lab.hub, w.lab.users["alice"]) as alice:
            await alice.join("budget")
            w.append(f"{OOM}\n")
            assert (await card(alice))["asset_code"] == "MOF-WAS-01"
        await w.events_waiting(0)
        assert w.agent.log().count("the hub refused event") == 1
        assert [r["node"] for r in await w.lab.incidents()] == ["MOF-WAS-01"]
        assert w.lab.hub.log().count("not its node") == 1
