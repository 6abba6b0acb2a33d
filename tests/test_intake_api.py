"""Incidents read back over REST, scoped to the reader; integrations from the command line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
from harness import BIN, Database
from intake_support import SECRET, fixture, running_lab, until

from hub.intake.auth import hmac_hex


async def test_incidents_are_scoped_to_the_reader(any_db: Database, tmp_path: Path) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        mof = await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"))
        molit = await lab.post(
            "/api/intake/event",
            {"serverIp": "10.20.1.11", "errorType": "KtxSeatError", "message": "no seat"},
            "app",
        )
        body = fixture("sentry_metric_alert.json")
        signed = {
            "Sentry-Hook-Resource": "metric_alert",
            "Sentry-Hook-Signature": hmac_hex(SECRET, body),
        }
        nodeless = await lab.post("/api/intake/sentry", body, "snt", headers=signed)
        ids = {a.json()["alert_id"] for a in (mof, molit, nodeless)}
        assert len(ids) == 3

        seen = {user: {r["alert_id"] for r in await lab.incidents(user)} for user in lab.users}
        assert seen["admin"] == ids
        assert (
            seen["alice"] == seen["victor"] == {mof.json()["alert_id"], nodeless.json()["alert_id"]}
        )
        assert seen["molly"] == {molit.json()["alert_id"]}
        [molit_row] = await lab.incidents("molly")
        assert molit_row["room_id"] == "molit"  # its system's room

        mof_id = mof.json()["alert_id"]
        assert (await lab.get(f"/api/incidents/{mof_id}", "victor")).status_code == 200
        assert (await lab.get(f"/api/incidents/{mof_id}", "molly")).status_code == 404
        assert (await lab.get("/api/incidents/INOSUCH", "admin")).status_code == 404
        async with httpx.AsyncClient() as client:
            assert (await client.get(lab.hub.http + "/api/incidents")).status_code == 401
        assert [r["alert_id"] for r in await lab.incidents(state="firing", node="MOF-WAS-01")] == [
            mof_id
        ]
        assert (await lab.get("/api/incidents?state=burning")).status_code == 400


def guardia(db: Database, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "guardia"), *args],
        env={**os.environ, "GUARDIA_DATABASE_URL": db.url},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_integration_commands_show_a_token_once_and_never_a_secret(
    sqlite_db: Database, tmp_path: Path
) -> None:
    async with running_lab(sqlite_db, tmp_path) as lab:
        made = guardia(
            sqlite_db, "integration", "add", "zabbix", "--kind", "event", "--room", "ops"
        )
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        assert token.startswith("gi_")
        secret = "a-secret-only-grafana-knows"
        signed = guardia(
            sqlite_db,
            "integration",
            "add",
            "graf2",
            "--kind",
            "grafana",
            "--secret",
            "-",
            stdin=secret,
        )
        assert signed.returncode == 0, signed.stderr
        listing = guardia(sqlite_db, "integration", "list")
        assert listing.returncode == 0
        assert "zabbix" in listing.stdout and "graf2" in listing.stdout
        assert token not in listing.stdout and secret not in listing.stdout
        assert "gi_" not in listing.stdout

        lab.tokens["zabbix"] = token
        ok = await lab.post("/api/intake/event", fixture("seed_error.json"), "zabbix")
        assert ok.status_code == 202 and ok.json()["status"] == "received"
        revoked = guardia(sqlite_db, "integration", "revoke", "zabbix")
        assert revoked.returncode == 0

        async def refused() -> bool:  # the hub remembers a token's integration for 2 s
            answer = await lab.post("/api/intake/event", fixture("seed_error.json"), "zabbix")
            return answer.status_code == 401

        await until(refused, timeout=3.0, every=0.2)
        assert "(revoked)" in guardia(sqlite_db, "integration", "list").stdout

        bad = [
            guardia(sqlite_db, "integration", "add", "x", "--kind", "event", "--room", "nowhere"),
            guardia(sqlite_db, "integration", "add", "zabbix", "--kind", "event"),
            guardia(sqlite_db, "integration", "add", "y", "--kind", "sentry", "--secret", "short"),
            guardia(sqlite_db, "integration", "add", "bad name", "--kind", "event"),
            guardia(
                sqlite_db, "integration", "add", "z", "--kind", "messenger", "--callback", "ftp://x"
            ),
            guardia(sqlite_db, "integration", "revoke", "nobody"),
        ]
        assert [b.returncode for b in bad] == [1] * len(bad)
        assert all(b.stderr.startswith("guardia: ") for b in bad), [b.stderr for b in bad]
    # the hub never logged a token or a secret
    log = lab.hub.log()
    assert token not in log and secret not in log and SECRET not in log
