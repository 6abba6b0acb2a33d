"""The incident memory seam, in one hub process on a real SQLite database: a new card names
the similar incident the memory answers with, and resolved incidents are handed to it with
what resolved them (the alert, or the task launched from the card)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness import Database
from intake_support import CMDB, fixture

from cmdb.integrations import add_integration, integration_by_name
from cmdb.message_log import replay
from hub.intake import alertmanager
from hub.intake.memory import IncidentRecord, Similar
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


@pytest.fixture
async def state(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[HubState]:
    await sqlite_db.import_cmdb(CMDB)
    await sqlite_db.add_room("budget", "MOF/BUDGET")
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
    memory = RecordingMemory(Similar("2026-11-03T02:11:00Z", "MOF-WAS-02", "restart of MOF-WAS-02"))
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
    assert "Same symptom on 2026-11-03: restart of MOF-WAS-02" in card
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
    assert by_alert.resolution == "resolved by its alert" and by_alert.fixing_task_id is None


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
    assert fixed.resolution == "fixed by a restart on MOF-WAS-01"
    row = await state.incidents.get(answer.alert_id)
    assert row is not None and row.state == "resolved"
    assert row.timeline[-1]["by"] == "alice"
