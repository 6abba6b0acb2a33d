"""Alerts from the senders' own payloads against the real hub, on SQLite and PostgreSQL:
one card per incident in its system's room, repeats folded, resolution in place, unknown
hosts ignored, and no token or a bad signature refused with nothing stored."""

from __future__ import annotations

from pathlib import Path

import orjson
from harness import Database, chat_client
from intake_support import SECRET, alerts, fixture, fixture_json, running_lab, until

from cmdb.integrations import list_integrations
from hub.intake.auth import hmac_hex


async def test_a_firing_alert_is_one_card_with_diagnostics_and_resolves_in_place(
    any_db: Database, tmp_path: Path
) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        async with chat_client(lab.hub, lab.users["alice"]) as alice:
            await alice.join("budget")
            first = await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"))
            assert first.status_code == 202, first.text
            assert first.json()["status"] == "received"
            alert_id = first.json()["alert_id"]

            card = await alice.expect("ALERT", alert_id=alert_id)
            assert card["room_id"] == "budget"  # MOF/BUDGET, over the MOF and unscoped rooms
            assert card["status"] == "firing"
            assert card["severity"] == "CRITICAL"
            assert card["asset_code"] == "MOF-WAS-01"
            assert card["source"] == "alertmanager"
            assert card["title"] == "TomcatDown"
            assert card["occurrences"] == 1
            codes = [b["command_code"] for b in card["interactive_actions"]]
            assert codes == ["SERVICE_STATUS", "RESTART_SERVICE", "ACK_ALERT"]
            restart = card["interactive_actions"][1]
            assert restart["style"] == "danger" and "approval" in restart["label"]
            assert card["seq"] >= 1 and card["is_widget"] is True

            again = await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"))
            assert again.json() == {"status": "deduplicated", "alert_id": alert_id}
            update = await alice.expect("ALERT", alert_id=alert_id, occurrences=2)
            assert update["interactive_actions"] == card["interactive_actions"]

            resolved = await lab.post(
                "/api/intake/alertmanager", fixture("alertmanager_resolved.json")
            )
            assert resolved.json() == {"status": "received", "alert_id": alert_id}
            final = await alice.expect("ALERT", alert_id=alert_id, status="resolved")
            assert final["interactive_actions"] == [] and final["is_widget"] is False
            # nothing but this one card, in its three states
            later = await alerts(alice, settle=1.5)
            assert {a["alert_id"] for a in [card, update, final, *later]} == {alert_id}

        # replay shows the cards, the latest state last
        history = (await lab.get("/api/rooms/budget/messages")).json()
        cards = [m for m in history if m["msg_type"] == "ALERT"]
        assert {c["alert_id"] for c in cards} == {alert_id}
        assert cards[-1]["status"] == "resolved"
        [row] = await lab.incidents()
        assert row["alert_id"] == alert_id and row["state"] == "resolved"
        assert row["occurrences"] == 2 and row["node"] == "MOF-WAS-01"
        detail = (await lab.get(f"/api/incidents/{alert_id}")).json()
        assert [t["event"] for t in detail["timeline"]] == ["opened", "resolved"]

        # firing again after it resolved is a new incident with a new card
        reopened = await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"))
        assert reopened.json()["status"] == "received"
        assert reopened.json()["alert_id"] != alert_id


async def test_grafana_signed_alert_for_a_db_lock_wait(any_db: Database, tmp_path: Path) -> None:
    async with running_lab(any_db, tmp_path) as lab:
        body = fixture("grafana_firing.json")
        async with chat_client(lab.hub, lab.users["alice"]) as alice:
            await alice.join("budget")
            signed = {"X-Grafana-Alerting-Signature": hmac_hex(SECRET, body)}
            answer = await lab.post("/api/intake/alertmanager", body, "graf", headers=signed)
            assert answer.status_code == 202 and answer.json()["status"] == "received"
            card = await alice.expect("ALERT", alert_id=answer.json()["alert_id"])
        assert card["source"] == "grafana" and card["asset_code"] == "MOF-DB-01"
        assert [b["command_code"] for b in card["interactive_actions"]] == [
            "FETCH_DB_LOCKS",
            "ACK_ALERT",
        ]


async def test_an_unknown_host_is_ignored_and_counted(any_db: Database, tmp_path: Path) -> None:
    hook = fixture_json("alertmanager_firing.json")
    hook["alerts"][0]["labels"]["instance"] = "10.99.99.99:9100"
    hook["alerts"][0]["fingerprint"] = "ffff0000ffff0000"
    async with running_lab(any_db, tmp_path) as lab:
        async with chat_client(lab.hub, lab.users["admin"]) as admin:
            for room in ("budget", "mof", "ops"):
                await admin.join(room)
            answer = await lab.post("/api/intake/alertmanager", hook)
            assert answer.status_code == 202
            assert answer.json()["status"] == "ignored"
            assert answer.json()["alert_id"] is None
            assert "10.99.99.99" in answer.json()["reasons"][0]
            assert await alerts(admin, settle=1.5) == []
        assert await lab.incidents() == []
        assert "10.99.99.99" in lab.hub.log()

        async def counted() -> tuple[int, int] | None:
            [am] = [i for i in await any_db._run(list_integrations) if i.name == "am"]
            return (am.alerts_received, am.alerts_ignored) if am.alerts_ignored else None

        assert await until(counted) == (0, 1)  # counters are flushed every second


async def test_no_token_a_bad_token_and_a_bad_signature_are_refused(
    any_db: Database, tmp_path: Path
) -> None:
    body = fixture("grafana_firing.json")
    sentry_body = fixture("sentry_event_alert.json")
    sentry_headers = {"Sentry-Hook-Resource": "event_alert"}
    async with running_lab(any_db, tmp_path) as lab:
        refused = [
            await lab.post("/api/intake/alertmanager", fixture("alertmanager_firing.json"), None),
            await lab.post(
                "/api/intake/alertmanager",
                body,
                None,
                headers={"Authorization": "Bearer gi_not-a-real-token"},
            ),
            await lab.post("/api/intake/alertmanager", body, "graf"),  # secret set, unsigned
            await lab.post(
                "/api/intake/alertmanager",
                body,
                "graf",
                headers={"X-Grafana-Alerting-Signature": hmac_hex("the-wrong-secret!", body)},
            ),
            await lab.post(
                "/api/intake/alertmanager",
                body + b" ",  # signed, then changed
                "graf",
                headers={"X-Grafana-Alerting-Signature": hmac_hex(SECRET, body)},
            ),
            await lab.post("/api/intake/sentry", sentry_body, "snt", headers=sentry_headers),
            await lab.post(
                "/api/intake/sentry?integration=snt",
                sentry_body,
                None,
                headers={**sentry_headers, "Sentry-Hook-Signature": "00" * 32},
            ),
            # a user's token is not an integration's
            await lab.post(
                "/api/intake/event",
                fixture("seed_error.json"),
                None,
                headers={"Authorization": f"Bearer {lab.users['admin']}"},
            ),
        ]
        assert [r.status_code for r in refused] == [401] * len(refused), [r.text for r in refused]
        assert all(r.json()["code"] == "UNAUTHENTICATED" for r in refused)
        wrong_kind = await lab.post("/api/intake/event", fixture("seed_error.json"), "am")
        assert wrong_kind.status_code == 403
        assert await lab.incidents() == []  # nothing stored

        # the same requests, rightly signed, are taken
        signed = {**sentry_headers, "Sentry-Hook-Signature": hmac_hex(SECRET, sentry_body)}
        by_name = await lab.post(
            "/api/intake/sentry?integration=snt", sentry_body, None, headers=signed
        )
        assert by_name.status_code == 202 and by_name.json()["status"] == "received"
        with_token = await lab.post("/api/intake/sentry", sentry_body, "snt", headers=signed)
        assert with_token.json() == {
            "status": "deduplicated",
            "alert_id": by_name.json()["alert_id"],
        }


async def test_sentry_issue_alert_and_its_resolution(any_db: Database, tmp_path: Path) -> None:
    async with running_lab(any_db, tmp_path) as lab:

        def signed(resource: str, body: bytes) -> dict[str, str]:
            return {
                "Sentry-Hook-Resource": resource,
                "Sentry-Hook-Signature": hmac_hex(SECRET, body),
            }

        body = fixture("sentry_event_alert.json")
        opened = await lab.post(
            "/api/intake/sentry", body, "snt", headers=signed("event_alert", body)
        )
        alert_id = opened.json()["alert_id"]
        [row] = await lab.incidents()
        assert row["node"] == "MOF-DB-01"  # the server_name tag
        assert row["kind"] == "lock_wait" and row["room_id"] == "budget"
        body = fixture("sentry_issue_resolved.json")
        done = await lab.post("/api/intake/sentry", body, "snt", headers=signed("issue", body))
        assert done.json() == {"status": "received", "alert_id": alert_id}
        [row] = await lab.incidents()
        assert row["state"] == "resolved"
        # a metric alert names no host: it goes to the integration's room, on no node
        body = fixture("sentry_metric_alert.json")
        metric = await lab.post(
            "/api/intake/sentry", body, "snt", headers=signed("metric_alert", body)
        )
        assert metric.json()["status"] == "received"
        [row] = await lab.incidents(state="firing")
        assert (row["node"], row["room_id"], row["severity"]) == (None, "budget", "CRITICAL")
        install = orjson.dumps({"action": "created", "data": {"installation": {}}})
        ignored = await lab.post(
            "/api/intake/sentry", install, "snt", headers=signed("installation", install)
        )
        assert ignored.status_code == 202 and ignored.json()["status"] == "ignored"


async def test_bad_payloads_are_4xx_and_store_nothing(any_db: Database, tmp_path: Path) -> None:
    async with running_lab(any_db, tmp_path, GUARDIA_INTAKE_MAX_BYTES="4096") as lab:
        cases = [
            (await lab.post("/api/intake/alertmanager", b"{nope"), 400),
            (await lab.post("/api/intake/alertmanager", {"status": "firing"}), 400),
            (await lab.post("/api/intake/event", {"serverIp": "10.10.1.11"}, "app"), 400),
            (
                await lab.post(
                    "/api/intake/event", b"x", "app", headers={"Content-Type": "text/plain"}
                ),
                415,
            ),
            (await lab.post("/api/intake/event", b"{" + b" " * 5000 + b"}", "app"), 413),
        ]
        for response, status in cases:
            assert response.status_code == status, response.text
            assert response.json()["message"]
        assert await lab.incidents() == []
