"""The incident memory, in one hub process on a real SQLite database: through the seam, a new
card names the similar incident the memory answers with, and resolved incidents are handed
to it with what resolved them (the alert, or the task launched from the card); the hub's
own memory (chromadb under the data directory, the proactive bot's embedding) names the
earlier fix of the same symptom in the same system, and keeps it across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Database, chat_client
from intake_support import CMDB, fixture, fixture_json, running_lab, until

from cmdb.integrations import IntegrationPrincipal, add_integration, integration_by_name
from cmdb.message_log import replay
from hub.intake import alertmanager
from hub.intake.memory import IncidentRecord, Similar
from hub.intake.recall import EmbeddedMemory
from hub.settings import Settings
from hub.state import HubState
from hub.tasks.states import TaskState
from protocol import TaskStep


class RecordingMemory:
    def __init__(self, answer: Similar | None) -> None:
        self.answer = answer
        self.asked: list[IncidentRecord] = []
        self.remembered: list[IncidentRecord] = []

    async def remember(self, incident: IncidentRecord) -> None:
        self.remembered.append(incident)

    async def similar(self, incident: IncidentRecord) -> Similar | None:
        self.asked.append(incident)
        return self.answer

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def state(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[HubState]:
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("budget", "MOF/BUDGET")
    await sqlite_db.add_room("molit", "MOLIT/KTX")
    await sqlite_db._run(lambda s: add_integration(s, "am", "alertmanager"))
    hub = HubState(
        Settings(database_url=sqlite_db.url, data_dir=tmp_path, incident_card_interval=0.1)
    )
    await hub.start()
    yield hub
    await hub.stop()


async def cards(state: HubState) -> list[str]:
    async with state.sessions() as session:
        return [f for f in await replay(session, "budget", 0, 100) if '"ALERT"' in f]


async def test_a_new_card_names_the_similar_incident_and_resolutions_are_remembered(
    state: HubState,
) -> None:
    memory = RecordingMemory(
        Similar(
            "2026-11-03T02:11:00Z",
            "MOF-WAS-02",
            "MOF-WAS-02 재기동으로 해결",
            alert_id="I0123456789AB",
            resolved_by="task",
            action="RESTART_SERVICE",
            node="MOF-WAS-02",
        )
    )
    state.use_incident_memory(memory)
    async with state.sessions() as session:
        who = await integration_by_name(session, "am")
    assert who is not None
    answer = await state.intake.receive(
        who, alertmanager.read_webhook(fixture("alertmanager_firing.json"), "alertmanager")
    )
    for _ in range(100):
        if await cards(state):
            break
        await asyncio.sleep(0.05)
    [card] = await cards(state)
    assert '"similar":{"at":"2026-11-03T02:11:00Z","asset_code":"MOF-WAS-02"' in card
    assert '"resolved_by":"task","action":"RESTART_SERVICE","node":"MOF-WAS-02"' in card
    assert "Same symptom on 2026-11-03: fixed by restarting MOF-WAS-02" in card
    [asked] = memory.asked
    assert (asked.incident_id, asked.system, asked.node) == (
        answer.alert_id,
        "BUDGET",
        "MOF-WAS-01",
    )

    await state.intake.receive(
        who, alertmanager.read_webhook(fixture("alertmanager_resolved.json"), "alertmanager")
    )
    [by_alert] = memory.remembered
    assert by_alert.incident_id == answer.alert_id
    assert by_alert.resolution == "resolved when its alert cleared"
    assert by_alert.resolved_by == "alert" and by_alert.fixing_task_id is None


async def test_the_task_that_fixed_an_incident_is_remembered_with_it(state: HubState) -> None:
    memory = RecordingMemory(None)
    state.use_incident_memory(memory)
    async with state.sessions() as session:
        who = await integration_by_name(session, "am")
    assert who is not None
    answer = await state.intake.receive(
        who, alertmanager.read_webhook(fixture("alertmanager_firing.json"), "alertmanager")
    )
    assert answer.alert_id is not None
    task = await state.tasks.store.create(
        room_id="budget",
        requested_by="alice",
        agent_id="mof-agent",
        steps=[TaskStep(action="RESTART_SERVICE", node="MOF-WAS-01", params={"service": "tomcat"})],
    )
    await state.incidents.link_task(answer.alert_id, task.id, "RESTART_SERVICE", "alice")
    ok = [{"node": "MOF-WAS-01", "action": "RESTART_SERVICE", "ok": True}]
    await state.tasks.store.transition(task.id, TaskState.DISPATCHED, "sent")
    done = await state.tasks.store.transition(task.id, TaskState.SUCCEEDED, "done", results=ok)
    await state.incident_actions.task_ended(done)
    [fixed] = memory.remembered
    assert (fixed.fixing_task_id, fixed.fixing_action) == (task.id, "RESTART_SERVICE")
    assert fixed.resolution == "fixed by restarting MOF-WAS-01" and fixed.resolved_by == "task"
    row = await state.incidents.get(answer.alert_id)
    assert row is not None and row.state == "resolved"
    assert row.timeline[-1]["by"] == "alice"


# -- the hub's own memory: chromadb under the data directory, the bot's embedding -----------


def tomcat_down_on(host: str, fingerprint: str) -> bytes:
    hook = fixture_json("alertmanager_firing.json")
    alert = hook["alerts"][0]
    alert["labels"]["instance"] = f"{host}:9100"
    alert["annotations"]["summary"] = f"WAS is down: {host}"
    alert["annotations"]["description"] = f"tomcat on {host} has not answered its probe."
    alert["fingerprint"] = fingerprint
    return orjson.dumps(hook)


def high_cpu_on(host: str) -> bytes:
    hook = fixture_json("alertmanager_firing.json")
    alert = hook["alerts"][0]
    alert["labels"] = {"alertname": "HighCPU", "instance": f"{host}:9100", "severity": "warning"}
    alert["annotations"] = {"summary": f"CPU usage on {host} above 90% for 10 minutes"}
    alert["fingerprint"] = "cc00cc00cc00cc00"
    return orjson.dumps(hook)


async def card_of(state: HubState, who: IntegrationPrincipal, body: bytes, room: str) -> Any:
    answer = await state.intake.receive(who, alertmanager.read_webhook(body, "alertmanager"))
    assert answer.status == "received", answer

    async def posted() -> Any:
        async with state.sessions() as session:
            frames = [orjson.loads(f) for f in await replay(session, room, 0, 200)]
        return next((f for f in frames if f.get("alert_id") == answer.alert_id), None)

    return await until(posted, timeout=30)


async def fixed_by_a_restart(state: HubState, alert_id: str) -> None:
    """A restart launched from the card of MOF-WAS-01's incident succeeds."""
    task = await state.tasks.store.create(
        room_id="budget",
        requested_by="alice",
        agent_id="mof-agent",
        steps=[TaskStep(action="RESTART_SERVICE", node="MOF-WAS-01", params={"service": "tomcat"})],
    )
    await state.incidents.link_task(alert_id, task.id, "RESTART_SERVICE", "alice")
    ok = [{"node": "MOF-WAS-01", "action": "RESTART_SERVICE", "ok": True}]
    await state.tasks.store.transition(task.id, TaskState.DISPATCHED, "sent")
    done = await state.tasks.store.transition(task.id, TaskState.SUCCEEDED, "done", results=ok)
    await state.incident_actions.task_ended(done)


async def test_the_hub_memory_names_the_earlier_fix_of_the_same_symptom_in_the_same_system(
    state: HubState,
) -> None:
    assert isinstance(state.incident_memory, EmbeddedMemory)  # the default
    async with state.sessions() as session:
        who = await integration_by_name(session, "am")
    assert who is not None
    first = await card_of(state, who, tomcat_down_on("10.10.1.11", "f1f1f1f1f1f1f1f1"), "budget")
    assert first["similar"] is None  # nothing resolved yet in BUDGET
    await fixed_by_a_restart(state, first["alert_id"])

    # the same trouble on another WAS of the system: named, with what fixed it
    again = await card_of(state, who, tomcat_down_on("10.10.9.11", "f2f2f2f2f2f2f2f2"), "budget")
    assert again["asset_code"] == "MOF-WAS-09"
    assert again["similar"] == {
        "at": first["first_seen"],
        "asset_code": "MOF-WAS-01",
        "resolution": "fixed by restarting MOF-WAS-01",
        "alert_id": first["alert_id"],
        "resolved_by": "task",
        "action": "RESTART_SERVICE",
        "node": "MOF-WAS-01",
    }
    day = first["first_seen"][:10]
    assert f"Same symptom on {day}: fixed by restarting MOF-WAS-01" in again["content"]

    # another trouble of the same system, and the same trouble in another system: nothing
    other = await card_of(state, who, high_cpu_on("10.10.1.31"), "budget")
    assert other["similar"] is None
    elsewhere = await card_of(state, who, tomcat_down_on("10.20.1.11", "f3f3f3f3f3f3f3f3"), "molit")
    assert elsewhere["asset_code"] == "MOLIT-WAS-01" and elsewhere["similar"] is None


async def test_the_memory_outlives_the_hub_process(sqlite_db: Database, tmp_path: Path) -> None:
    """Resolved by its alert, remembered under the data directory, named after a restart."""
    async with running_lab(sqlite_db, tmp_path) as lab:
        first = await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"))
        alert_id = first.json()["alert_id"]
        resolved = await lab.post("/api/intake/alertmanager", fixture("alertmanager_resolved.json"))
        assert resolved.json()["status"] == "received"
        lab.hub.stop()  # stopping waits for what is queued to be embedded
        await lab.hub.start()
        async with chat_client(lab.hub, lab.users["alice"]) as alice:
            await alice.join("budget")
            later = await lab.post(
                "/api/intake/alertmanager", tomcat_down_on("10.10.9.11", "f4f4f4f4f4f4f4f4")
            )
            card = await alice.expect("ALERT", alert_id=later.json()["alert_id"], timeout=30)
        assert card["similar"]["alert_id"] == alert_id
        assert card["similar"]["resolved_by"] == "alert"
        assert card["similar"]["asset_code"] == "MOF-WAS-01"
        assert card["similar"].get("action") is None
        assert (tmp_path / "hub" / "chroma").is_dir()


async def test_incidents_resolved_while_the_memory_was_off_are_found_once_it_is_on(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """The database is the source: the first use of the memory embeds what it lacks."""
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("budget", "MOF/BUDGET")
    await sqlite_db._run(lambda s: add_integration(s, "am", "alertmanager"))

    def settings(memory: bool) -> Settings:
        return Settings(
            database_url=sqlite_db.url,
            data_dir=tmp_path,
            incident_card_interval=0.1,
            incident_memory=memory,
        )

    before = HubState(settings(False))
    await before.start()
    try:
        async with before.sessions() as session:
            who = await integration_by_name(session, "am")
        assert who is not None
        first = await card_of(
            before, who, tomcat_down_on("10.10.1.11", "e1e1e1e1e1e1e1e1"), "budget"
        )
        await fixed_by_a_restart(before, first["alert_id"])
    finally:
        await before.stop()
    assert not (tmp_path / "chroma").exists()  # nothing embedded while it was off

    after = HubState(settings(True))
    await after.start()
    try:
        again = await card_of(
            after, who, tomcat_down_on("10.10.9.11", "e2e2e2e2e2e2e2e2"), "budget"
        )
    finally:
        await after.stop()
    assert again["similar"]["alert_id"] == first["alert_id"]
    assert again["similar"]["resolved_by"] == "task"
    assert again["similar"]["action"] == "RESTART_SERVICE"
    assert again["similar"]["resolution"] == "fixed by restarting MOF-WAS-01"
