"""The senders' payloads read into signals, and the rules they share (pure, no hub)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from hub.intake import alertmanager, application, sentry
from hub.intake.agent_events import read_agent_event
from hub.intake.auth import grafana_signature, hmac_hex, sentry_signature
from hub.intake.exceptions import BadPayload, Unauthenticated, UnsupportedMedia
from hub.intake.signals import classify, host_of, normalize_trace, parse_time, severity_of
from protocol import AgentEvent

DATA = Path(__file__).parent / "data" / "intake"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        (
            "alertmanager_firing.json",
            "alertmanager",
            {
                "source": "alertmanager",
                "key": "am:5f0c2e8a1b7d3c94",
                "status": "firing",
                "severity": "CRITICAL",
                "title": "TomcatDown",
                "kind": "service_down",
                "hosts": ("10.10.1.11",),
                "service": "tomcat",
                "windowed": False,
            },
        ),
        (
            "alertmanager_resolved.json",
            "alertmanager",
            {"key": "am:5f0c2e8a1b7d3c94", "status": "resolved"},
        ),
        (
            "grafana_firing.json",
            "grafana",
            {
                "source": "grafana",
                "key": "am:a91b7c2d40e1f365",
                "severity": "MEDIUM",
                "kind": "lock_wait",
                "asset_code": "MOF-DB-01",
                "hosts": (),
            },
        ),
    ],
)
def test_alertmanager_and_grafana_webhooks(name: str, kind: str, expected: dict[str, Any]) -> None:
    [signal] = alertmanager.read_webhook(fixture(name), kind)
    for field, value in expected.items():
        assert getattr(signal, field) == value, field
    assert signal.occurred_at is not None


def test_grafana_is_known_by_its_org_id_even_on_an_alertmanager_integration() -> None:
    [signal] = alertmanager.read_webhook(fixture("grafana_firing.json"), "alertmanager")
    assert signal.source == "grafana"


def test_every_alert_of_a_group_is_a_signal() -> None:
    hook = json.loads(fixture("alertmanager_firing.json"))
    second = {**hook["alerts"][0], "fingerprint": "0000aaaa0000bbbb"}
    second["labels"] = {**second["labels"], "instance": "10.10.1.12:9100"}
    hook["alerts"].append(second)
    signals = alertmanager.read_webhook(json.dumps(hook).encode(), "alertmanager")
    assert [s.hosts for s in signals] == [("10.10.1.11",), ("10.10.1.12",)]


def test_an_alert_without_fingerprint_gets_one_from_its_labels() -> None:
    hook = json.loads(fixture("alertmanager_firing.json"))
    del hook["alerts"][0]["fingerprint"]
    [a] = alertmanager.read_webhook(json.dumps(hook).encode(), "alertmanager")
    [b] = alertmanager.read_webhook(json.dumps(hook).encode(), "alertmanager")
    assert a.key == b.key and a.key.startswith("am:")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "webhook"),
        (b'{"status": "firing"}', "alerts"),
        (b'{"status": "burning", "alerts": []}', "status"),
        (b'{"status": "firing", "alerts": [{"labels": {}}]}', "alerts.0.status"),
    ],
)
def test_a_webhook_that_will_never_be_valid(body: bytes, problem: str) -> None:
    with pytest.raises(BadPayload, match=problem):
        alertmanager.read_webhook(body, "alertmanager")


def test_sentry_event_alert_issue_and_metric_alert() -> None:
    [alert] = sentry.read_webhook(fixture("sentry_event_alert.json"), "event_alert", "snt")
    assert alert.key == "sentry:snt:48213"
    assert alert.status == "firing"
    assert alert.kind == "lock_wait"
    assert alert.hosts == ("10.10.1.31",)  # the server_name tag
    assert alert.severity == "HIGH"
    [resolved] = sentry.read_webhook(fixture("sentry_issue_resolved.json"), "issue", "snt")
    assert (resolved.key, resolved.status) == (alert.key, "resolved")
    [metric] = sentry.read_webhook(fixture("sentry_metric_alert.json"), "metric_alert", "snt")
    assert metric.key == "sentry-metric:snt:77"
    assert (metric.status, metric.severity) == ("firing", "CRITICAL")
    assert metric.title == "Critical: Budget error rate"
    assert "\n" in metric.summary


def test_sentry_resources_that_are_not_alerts_give_nothing() -> None:
    assert sentry.read_webhook(b'{"action": "created", "data": {}}', "installation", "s") == []
    assigned = json.loads(fixture("sentry_issue_resolved.json"))
    assigned["action"] = "assigned"
    assert sentry.read_webhook(json.dumps(assigned).encode(), "issue", "s") == []


@pytest.mark.parametrize(
    ("resource", "body", "problem"),
    [
        (None, b"{}", "Sentry-Hook-Resource"),
        ("issue", b'{"action": "created", "data": {"issue": {}}}', "issue.id"),
        ("event_alert", b'{"action": "triggered", "data": {}}', "data.event"),
        ("metric_alert", b'{"action": "sleepy", "data": {"metric_alert": {"id": 1}}}', "action"),
    ],
)
def test_sentry_payloads_that_will_never_be_valid(
    resource: str | None, body: bytes, problem: str
) -> None:
    with pytest.raises(BadPayload, match=problem):
        sentry.read_webhook(body, resource, "s")


def test_the_seed_error_report() -> None:
    [signal] = application.read_event(fixture("seed_error.json"), "application/json")
    assert signal.source == "event"
    assert signal.windowed is True
    assert signal.hosts == ("10.10.1.11", "mof-was-01")
    assert signal.title.startswith("java.lang.NullPointerException: Cannot invoke")
    assert signal.summary.startswith("POST /budget/api/v1/items/20261103-0042/approve\n")
    assert signal.kind == "log_error"
    assert signal.severity == "HIGH"


def test_the_same_error_from_another_request_has_the_same_key() -> None:
    seed = json.loads(fixture("seed_error.json"))
    other = {
        **seed,
        "requestUrl": "/budget/api/v1/items/20261104-0007/approve",
        "stackTrace": seed["stackTrace"].replace("118", "121").replace("42 more", "40 more"),
    }
    [a] = application.read_event(json.dumps(seed).encode(), "application/json")
    [b] = application.read_event(json.dumps(other).encode(), "application/json")
    assert a.key == b.key
    different = {**seed, "errorType": "java.lang.IllegalStateException"}
    [c] = application.read_event(json.dumps(different).encode(), "application/json")
    assert c.key != a.key


def test_a_problem_details_report() -> None:
    [signal] = application.read_event(fixture("problem.json"), "application/problem+json")
    assert signal.title == "Ledger service unavailable"
    assert signal.hosts == ("10.10.1.11",)
    assert signal.severity == "HIGH"  # status 503
    assert "LedgerTimeoutException" in signal.summary


def test_a_problem_whose_instance_is_an_absolute_uri_names_its_host() -> None:
    body = b'{"title": "Bad", "status": 400, "instance": "https://mof-was-01/api/x"}'
    [signal] = application.read_event(body, "application/problem+json; charset=utf-8")
    assert signal.hosts == ("mof-was-01",)
    assert signal.severity == "MEDIUM"


@pytest.mark.parametrize(
    ("body", "media", "error", "problem"),
    [
        (b"oops", "text/plain", UnsupportedMedia, "text/plain"),
        (b"[1]", "application/json", BadPayload, "object"),
        (b'{"serverIp": "10.10.1.11"}', "application/json", BadPayload, "errorType or message"),
        (b'{"status": 503}', "application/problem+json", BadPayload, "type, title or detail"),
        (b'{"title": "x", "status": 9}', "application/problem+json", BadPayload, "100-599"),
        (b'{"message": 5}', "application/json", BadPayload, "message"),
    ],
)
def test_application_reports_that_will_never_be_valid(
    body: bytes, media: str, error: type[Exception], problem: str
) -> None:
    with pytest.raises(error, match=problem):
        application.read_event(body, media)


def test_an_agent_event() -> None:
    event = AgentEvent(
        event_id="e1",
        node="MOF-WAS-01",
        service="tomcat",
        severity="CRITICAL",
        title="java.lang.OutOfMemoryError: Java heap space",
        lines=["2026-11-03 10:00:01 ERROR [http-nio-8080-exec-7] OutOfMemoryError"],
        pattern="OutOfMemoryError",
        path="/opt/tomcat/logs/catalina.out",
        occurred_at="2026-11-03T01:00:01Z",
    )
    signal = read_agent_event(event)
    assert (signal.asset_code, signal.source, signal.kind) == ("MOF-WAS-01", "agent", "log_error")
    assert signal.windowed and signal.key.startswith("log:")
    assert signal.summary.endswith("/opt/tomcat/logs/catalina.out")


@pytest.mark.parametrize(
    ("instance", "host"),
    [
        ("10.10.1.11:9100", "10.10.1.11"),
        ("https://server.example.org", "server.example.org"),
        ("https://Server.example.org:8443/health", "server.example.org"),
        ("[fd00::11]:9100", "fd00::11"),
        ("mof-was-01", "mof-was-01"),
        ("", None),
        (None, None),
    ],
)
def test_the_host_an_instance_label_names(instance: str | None, host: str | None) -> None:
    assert host_of(instance) == host


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("critical", "CRITICAL"),
        ("Warning", "MEDIUM"),
        ("error", "HIGH"),
        ("info", "LOW"),
        (None, "MEDIUM"),
        ("whatever", "MEDIUM"),
    ],
)
def test_severity_words(word: str | None, severity: str) -> None:
    assert severity_of(word) == severity


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("PostgresLockWaits", "lock_wait"),
        ("DB 대기 쿼리 증가", "lock_wait"),
        ("TomcatDown", "service_down"),  # an alert name in CamelCase
        ("Countdown to maintenance", "other"),
        ("WAS is down: 10.10.1.11", "service_down"),
        ("예산시스템 WAS 응답 없음", "service_down"),
        ("High memory usage", "other"),
    ],
)
def test_what_kind_of_trouble_a_text_describes(text: str, kind: str) -> None:
    assert classify([text], "other") == kind


def test_a_trace_without_what_varies_between_runs() -> None:
    a = "java.lang.IllegalStateException: id 4411\n\tat a.B.c(B.java:10)\n\tat 0x7f3a11"
    b = "java.lang.IllegalStateException: id 9\n\tat a.B.c(B.java:12)\n\tat 0x7f00ff"
    assert normalize_trace(a) == normalize_trace(b)
    assert normalize_trace(a) != normalize_trace(a.replace("IllegalState", "IllegalArgument"))


def test_times() -> None:
    assert parse_time("0001-01-01T00:00:00Z") is None
    nanos = parse_time("2026-11-03T09:12:45.828473061+09:00")
    assert nanos is not None and nanos.utcoffset() is not None
    assert parse_time(1793669211.412) is not None
    assert parse_time("yesterday") is None


def test_signatures_are_checked_on_the_raw_body() -> None:
    secret, body = "s3cr3t-s3cr3t-s3cr3t", b'{"a": 1}'
    sentry_signature(secret, {"sentry-hook-signature": hmac_hex(secret, body)}, body, 0)
    with pytest.raises(Unauthenticated):
        sentry_signature(secret, {"sentry-hook-signature": hmac_hex(secret, body)}, b'{"a":1}', 0)
    with pytest.raises(Unauthenticated):
        sentry_signature(secret, {}, body, 0)
    now = time.time()
    plain = {"x-grafana-alerting-signature": hmac_hex(secret, body)}
    grafana_signature(secret, plain, body, now)
    stamp = str(int(now))
    stamped = {
        "x-grafana-alerting-signature": hmac_hex(secret, stamp.encode() + b":" + body),
        "x-grafana-alerting-timestamp": stamp,
    }
    grafana_signature(secret, stamped, body, now)
    with pytest.raises(Unauthenticated, match="too far"):
        grafana_signature(secret, stamped, body, now + 3600)
    with pytest.raises(Unauthenticated):
        grafana_signature("another-secret-entirely", plain, body, now)
