"""Liveness and readiness on a real hub (the outages themselves are in tests/faults/:
PostgreSQL stopped and Redis stopped turn /api/ready to 503 naming them)."""

from __future__ import annotations

import httpx
from harness import HubProcess


async def test_ready_names_each_check_and_health_answers_without_them(hub: HubProcess) -> None:
    async with httpx.AsyncClient() as client:
        ready = await client.get(hub.http + "/api/ready")
        health = await client.get(hub.http + "/api/health")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}  # no Redis here
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["agents_online"] == []
