"""Folding repeats into incidents: within the window, across a restart, when identical
alerts race (on one hub and on two), and without flooding the room."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from harness import Database, HubProcess, chat_client
from intake_support import FAST, alerts, fixture, fixture_json, running_lab


async def test_the_seed_error_twice_within_the_window_then_after_it(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path) as lab:  # a 2 s window
        first = await lab.post("/api/intake/event", fixture("seed_error.json"), "app")
        second = await lab.post("/api/intake/event", fixture("seed_error.json"), "app")
        assert first.json()["status"] == "received"
        assert second.json() == {"status": "deduplicated", "alert_id": first.json()["alert_id"]}
        await asyncio.sleep(1.2)
        third = await lab.post("/api/intake/event", fixture("seed_error.json"), "app")
        assert third.json()["status"] == "deduplicated"  # the window slides with each repeat
        await asyncio.sleep(2.5)  # quiet for longer than the window
        fourth = await lab.post("/api/intake/event", fixture("seed_error.json"), "app")
        assert fourth.json()["status"] == "received"
        assert fourth.json()["alert_id"] != first.json()["alert_id"]

        rows = {r["alert_id"]: r for r in await lab.incidents()}
        assert rows[first.json()["alert_id"]]["occurrences"] == 3
        assert rows[fourth.json()["alert_id"]]["occurrences"] == 1
        assert {r["node"] for r in rows.values()} == {"MOF-WAS-01"}  # by serverIp
        detail = (await lab.get(f"/api/incidents/{fourth.json()['alert_id']}")).json()
        assert detail["timeline"][-1]["event"] == "recurred"
        assert first.json()["alert_id"] in detail["timeline"][-1]["detail"]

        # the same error on another node is another incident
        other = fixture_json("seed_error.json") | {"serverIp": "10.10.9.11", "serverName": "x"}
        elsewhere = await lab.post("/api/intake/event", other, "app")
        assert elsewhere.json()["status"] == "received"
        # and RFC 9457 problems fold the same way
        p1 = await lab.post(
            "/api/intake/event",
            fixture("problem.json"),
            "app",
            headers={"Content-Type": "application/problem+json"},
        )
        p2 = await lab.post(
            "/api/intake/event",
            fixture("problem.json"),
            "app",
            headers={"Content-Type": "application/problem+json"},
        )
        assert (p1.json()["status"], p2.json()["status"]) == ("received", "deduplicated")


async def test_a_hub_restarted_between_two_repeats_still_folds_them(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path, GUARDIA_INCIDENT_DEDUP_WINDOW="60") as lab:
        alert = await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"))
        error = await lab.post("/api/intake/event", fixture("seed_error.json"), "app")
        lab.hub.kill()  # no goodbye: nothing of the dedup may live in its memory
        await lab.hub.start()
        alert_again = await lab.post(
            "/api/intake/alertmanager", fixture("alertmanager_firing.json")
        )
        error_again = await lab.post("/api/intake/event", fixture("seed_error.json"), "app")
        assert alert_again.json() == {
            "status": "deduplicated",
            "alert_id": alert.json()["alert_id"],
        }
        assert error_again.json() == {
            "status": "deduplicated",
            "alert_id": error.json()["alert_id"],
        }
        assert sorted(r["occurrences"] for r in await lab.incidents()) == [2, 2]


async def test_identical_alerts_at_once_are_one_incident(any_db: Database, tmp_path: Path) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        body = fixture("alertmanager_firing.json")
        answers = await asyncio.gather(
            *(lab.post("/api/intake/alertmanager", body) for _ in range(12)),
            *(lab.post("/api/intake/event", fixture("seed_error.json"), "app") for _ in range(12)),
        )
        assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
        statuses = [a.json()["status"] for a in answers]
        assert statuses.count("received") == 2 and statuses.count("deduplicated") == 22
        rows = await lab.incidents()
        assert sorted(r["occurrences"] for r in rows) == [12, 12]
        assert {a.json()["alert_id"] for a in answers} == {r["alert_id"] for r in rows}


@pytest.mark.postgres
async def test_identical_alerts_at_once_on_two_hubs_are_one_incident(
    postgres_db: Database, tmp_path: Path
) -> None:
    async with running_lab(postgres_db, tmp_path) as lab:
        (tmp_path / "hub2").mkdir()
        other = HubProcess(postgres_db, tmp_path / "hub2", **FAST)
        await other.start()
        try:
            body = fixture("alertmanager_firing.json")
            done = await asyncio.gather(
                *(lab.post("/api/intake/alertmanager", body, hub=h) for h in [lab.hub, other] * 10)
            )
        finally:
            other.stop()
        assert [d.json()["status"] for d in done].count("received") == 1
        [row] = await lab.incidents()
        assert row["occurrences"] == 20


async def test_a_storm_on_one_node_is_one_card_posted_at_a_bounded_rate(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path, GUARDIA_INCIDENT_CARD_INTERVAL="1") as lab:
        async with chat_client(lab.hub, lab.users["alice"]) as alice:
            await alice.join("budget")
            body = fixture("alertmanager_firing.json")
            start = time.monotonic()
            for _ in range(4):
                await asyncio.gather(
                    *(lab.post("/api/intake/alertmanager", body) for _ in range(15))
                )
                await asyncio.sleep(0.3)
            took = time.monotonic() - start
            cards = await alerts(alice, settle=2.5)
        assert len({c["alert_id"] for c in cards}) == 1
        # one card per interval at most (plus the first, at once)
        assert len(cards) <= int(took / 1.0) + 2, (len(cards), took)
        assert cards[-1]["occurrences"] == 60  # the latest state, every alert counted
