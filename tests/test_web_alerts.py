"""ALERT cards in Chromium against the real hub and the demo's agent: Alertmanager's own
payloads posted to the intake, one card per incident updated in place (live and after a
reload), its buttons pressed as an operator (the diagnostic runs, its result card arrives,
the button may be pressed again) and as a viewer (refused), the memory's similar incident,
in Korean and in English."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from browser_support import (  # noqa: F401  (fixtures)
    Person,
    WebLab,
    browser,
    screenshot_path,
    sign_in,
    start_web_lab,
)
from harness import ISSUED_TOKENS
from intake_support import fixture_json
from playwright.async_api import Browser, Locator, expect

from cmdb.integrations import add_integration

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

KO_DAY = r"\d{4}\. \d{2}\. \d{2}\."
EN_DAY = r"\d{2}/\d{2}/\d{4}"


class AlertLab:
    def __init__(self, lab: WebLab, token: str) -> None:
        self.lab, self.token = lab, token

    async def post(self, hook: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                self.lab.hub.http + "/api/intake/alertmanager",
                content=orjson.dumps(hook),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
        assert answer.status_code == 202, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def alert_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AlertLab]:
    lab = await start_web_lab(
        tmp_path_factory.mktemp("alerts"), GUARDIA_INCIDENT_CARD_INTERVAL="0.3"
    )
    token = await lab.hub.db._run(lambda s: add_integration(s, "am", "alertmanager"))
    ISSUED_TOKENS.add(token)
    yield AlertLab(lab, token)
    lab.stop()


def hook(status: str, node: str, fingerprint: str, **alert: Any) -> dict[str, Any]:
    """Alertmanager's documented webhook (tests/data/intake), for a demo node: every demo
    node is 127.0.0.1, so the alert names its node by the `asset_code` label."""
    body = fixture_json(f"alertmanager_{status}.json")
    body["alerts"][0]["labels"]["asset_code"] = node
    body["alerts"][0]["fingerprint"] = fingerprint
    for key, value in alert.items():
        body["alerts"][0][key] = value
    return body


def lock_wait(node: str) -> dict[str, Any]:
    return hook(
        "firing",
        node,
        "b10cb10cb10cb10c",
        labels={"alertname": "PostgresLockWait", "asset_code": node, "severity": "warning"},
        annotations={"summary": "3 sessions waiting on a lock for more than 60s"},
    )


def alert_card(person: Person, alert_id: str) -> Locator:
    return person.timeline("budget").locator(f'.card-alert[data-alert="{alert_id}"]')


def articles(person: Person, alert_id: str) -> Locator:
    return person.timeline("budget").locator(f'article[data-type="ALERT"][data-alert="{alert_id}"]')


def results(person: Person, action: str) -> Locator:
    return person.timeline("budget").locator(
        f'.card[data-kind="result"]:has(.result-row .step[data-code="{action}"])'
    )


async def test_an_incident_is_one_card_updated_in_place_live_and_after_a_reload(
    browser: Browser,  # noqa: F811
    alert_lab: AlertLab,
) -> None:
    alice = await sign_in(browser, alert_lab.lab, "alice", room="budget", locale="ko-KR")
    dave = await sign_in(browser, alert_lab.lab, "dave", room="budget", locale="en-US")
    firing = hook("firing", "MOF-WAS-01", "a1a1a1a1a1a1a1a1")
    alert_id = (await alert_lab.post(firing))["alert_id"]

    ko, en = alert_card(alice, alert_id), alert_card(dave, alert_id)
    await expect(ko.locator(".card-title")).to_have_text("장애 알림")
    await expect(ko.locator(".alert-title")).to_have_text("TomcatDown")
    await expect(ko.locator(".pill")).to_have_text("발생 중")
    await expect(ko.locator(".badge")).to_have_text("심각")
    await expect(ko.locator(".alert-count")).to_have_text("1회")
    await expect(ko.locator(".chip")).to_have_text("MOF-WAS-01")
    await expect(ko.locator("button")).to_have_count(3)
    codes = [await b.get_attribute("data-code") for b in await ko.locator("button").all()]
    assert codes == ["SERVICE_STATUS", "RESTART_SERVICE", "ACK_ALERT"]
    await expect(ko.locator("button .btn-label")).to_have_text(
        ["서비스 상태 확인", "재기동", "확인했습니다"]
    )
    await expect(en.locator(".card-title")).to_have_text("Alert")
    await expect(en.locator(".pill")).to_have_text("Firing")
    await expect(en.locator(".badge")).to_have_text("Critical")
    await expect(en.locator(".alert-count")).to_have_text("1 time")

    again = await alert_lab.post(firing)  # the same alert again: the same card counts it
    assert again == {"status": "deduplicated", "alert_id": alert_id}
    await expect(ko.locator(".alert-count")).to_have_text("2회")
    await expect(en.locator(".alert-count")).to_have_text("2 times")
    await expect(ko).to_have_count(1)
    await expect(articles(alice, alert_id)).to_have_count(1)

    resolved = await alert_lab.post(hook("resolved", "MOF-WAS-01", "a1a1a1a1a1a1a1a1"))
    assert resolved == {"status": "received", "alert_id": alert_id}
    await expect(ko.locator(".pill")).to_have_text("해결됨")
    await expect(en.locator(".pill")).to_have_text("Resolved")
    await expect(ko).to_have_attribute("data-status", "resolved")
    await expect(ko.locator("button")).to_have_count(0)  # nothing left to do
    await expect(articles(alice, alert_id)).to_have_count(1)

    # replay: the same one card, in its latest state
    await alice.page.reload()
    await expect(alice.page.locator("#conn-status")).to_have_attribute("data-state", "online")
    await expect(ko).to_have_count(1)
    await expect(ko.locator(".pill")).to_have_text("해결됨")
    await expect(ko.locator(".alert-count")).to_have_text("2회")
    await expect(articles(alice, alert_id)).to_have_count(1)
    for person in (alice, dave):
        person.assert_no_errors()
        await person.close()


async def test_a_cards_diagnostic_runs_for_an_operator_and_is_refused_to_a_viewer(
    browser: Browser,  # noqa: F811
    alert_lab: AlertLab,
) -> None:
    alice = await sign_in(browser, alert_lab.lab, "alice", room="budget", locale="ko-KR")
    dave = await sign_in(browser, alert_lab.lab, "dave", room="budget", locale="en-US")
    alert_id = (await alert_lab.post(lock_wait("MOF-DB-01")))["alert_id"]
    ko, en = alert_card(alice, alert_id), alert_card(dave, alert_id)
    await expect(ko.locator(".alert-title")).to_have_text("PostgresLockWait")
    locks_ko = ko.locator("button[data-code=FETCH_DB_LOCKS]")
    locks_en = en.locator("button[data-code=FETCH_DB_LOCKS]")
    await expect(locks_ko.locator(".btn-label")).to_have_text("DB 락 조회")
    await expect(locks_en.locator(".btn-label")).to_have_text("Check DB locks")

    await locks_en.click()  # a viewer may not run it
    await expect(locks_en).to_have_attribute("data-state", "refused")
    refusal = en.locator(".action-error")
    await expect(refusal).to_have_attribute("data-code", "FORBIDDEN")
    await expect(refusal.locator(".error-detail")).to_contain_text("viewer")
    await expect(results(dave, "FETCH_DB_LOCKS")).to_have_count(0)

    await locks_ko.click()
    result = results(alice, "FETCH_DB_LOCKS")
    await expect(result).to_have_count(1)
    await expect(result).to_have_attribute("data-status", "SUCCEEDED")
    await expect(result.locator(".result-row .step")).to_have_text("DB 락")
    await expect(results(dave, "FETCH_DB_LOCKS")).to_have_count(1)  # the room sees it
    # a diagnostic may be run again once its task has ended; the incident is still open
    await expect(locks_ko).to_have_attribute("data-state", "idle")
    await expect(ko.locator(".pill")).to_have_text("발생 중")
    await locks_ko.click()
    await expect(results(alice, "FETCH_DB_LOCKS")).to_have_count(2)
    await expect(locks_ko).to_have_attribute("data-state", "idle")
    for person in (alice, dave):
        person.assert_no_errors()
        await person.close()


async def test_a_new_card_names_the_earlier_incident_and_what_fixed_it_in_each_language(
    browser: Browser,  # noqa: F811
    alert_lab: AlertLab,
) -> None:
    """After the first test, TomcatDown on MOF-WAS-01 is resolved (by its alert)."""
    alice = await sign_in(browser, alert_lab.lab, "alice", room="budget", locale="ko-KR")
    dave = await sign_in(browser, alert_lab.lab, "dave", room="budget", locale="en-US")
    second = (await alert_lab.post(hook("firing", "MOF-WAS-02", "c2c2c2c2c2c2c2c2")))["alert_id"]
    ko, en = alert_card(alice, second), alert_card(dave, second)
    await expect(ko.locator(".alert-similar")).to_have_text(
        re.compile(rf"^{KO_DAY} 같은 증상 \(MOF-WAS-01\): 알림 해제로 해결$")
    )
    await expect(en.locator(".alert-similar")).to_have_text(
        re.compile(rf"^Same symptom on {EN_DAY} \(MOF-WAS-01\): resolved when its alert cleared$")
    )
    await expect(ko.locator(".alert-similar")).to_have_attribute("data-resolved-by", "alert")

    # fixed from its card this time: a passing status check resolves it
    await ko.locator("button[data-code=SERVICE_STATUS]").click()
    await expect(results(alice, "SERVICE_STATUS")).to_have_count(1)
    await expect(ko.locator(".pill")).to_have_text("해결됨")
    await expect(en.locator(".pill")).to_have_text("Resolved")

    # the next one names the fix by a task before the one that went away by itself
    third = (await alert_lab.post(hook("firing", "MOF-WAS-01", "d3d3d3d3d3d3d3d3")))["alert_id"]
    ko, en = alert_card(alice, third), alert_card(dave, third)
    await expect(ko.locator(".alert-similar")).to_have_text(
        re.compile(rf"^{KO_DAY} 같은 증상: MOF-WAS-02 상태 확인\(정상\)으로 해결$")
    )
    await expect(en.locator(".alert-similar")).to_have_text(
        re.compile(rf"^Same symptom on {EN_DAY}: resolved by a passing status check of MOF-WAS-02$")
    )
    await expect(en.locator(".alert-similar")).to_have_attribute("data-similar-to", second)
    await ko.scroll_into_view_if_needed()
    await alice.page.screenshot(path=screenshot_path("screenshot-alert.png"))
    await alice.page.click(".sidebar [data-lang-toggle]")  # the same card, the other language
    await expect(ko.locator(".alert-similar")).to_have_text(
        re.compile(rf"^Same symptom on {EN_DAY}: resolved by a passing status check of MOF-WAS-02$")
    )
    for person in (alice, dave):
        person.assert_no_errors()
        await person.close()
