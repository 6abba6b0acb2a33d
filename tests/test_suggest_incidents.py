"""The incident memory's parts in hub/suggest: the symptom's words (table-driven), the choice
among candidates, and the thresholds on the labelled incidents through the real collection
(an embedded chromadb) with the proactive bot's embedding."""

from __future__ import annotations

import itertools
from pathlib import Path

import chromadb
import pytest
import yaml
from chromadb.config import Settings

from hub.suggest.chroma import chroma_client
from hub.suggest.embedding import embed
from hub.suggest.incidents import COLLECTION, IncidentIndex, open_incidents
from hub.suggest.store import COLLECTION as EXEMPLARS
from hub.suggest.store import open_store
from hub.suggest.symptoms import (
    SAME_HEADLINE_AT,
    SIMILAR_AT,
    PastIncident,
    choose,
    headline,
    symptom_text,
)

CASES = Path(__file__).parent / "data" / "incident_memory" / "incidents.yaml"

SYMPTOM_TEXT: list[tuple[str, str, str, str | None, str]] = [
    ("an alert: name, then its text without the address", "TomcatDown",
     "WAS is down: 10.10.1.11\ntomcat on 10.10.1.11:8080 has not answered", None,
     "TomcatDown\nWAS is down:\ntomcat on has not answered"),
    ("a log watch: no node-and-service prefix, no file path, no line numbers",
     "MOF-WAS-01 tomcat: java.lang.OutOfMemoryError: Java heap space",
     "java.lang.OutOfMemoryError: Java heap space\n\tat a.B.c(B.java:214)\n/opt/tomcat/logs/catalina.out",
     "MOF-WAS-01", "java.lang.OutOfMemoryError: Java heap space\nat a.B.c(B.java)"),
    ("Grafana's prefix and another node's code go", "[FIRING:1] DB lock waits MOF-DB-01",
     "pg_locks_waiting > 5 on MOF-DB-01", None, "DB lock waits\npg_locks_waiting > 5 on"),
    ("error codes stay", "MOF-DB-01 oracle: ORA-00060: deadlock detected", "", "MOF-DB-01",
     "ORA-00060: deadlock detected"),
    ("only the first lines of a long summary", "E", "1\n2\n3\n4\n5", None, "E\n1\n2\n3"),
    ("Korean as written", "예산시스템 WAS 응답 없음", "10.10.1.11 헬스체크 실패", None,
     "예산시스템 WAS 응답 없음\n헬스체크 실패"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "title", "summary", "node", "text"), SYMPTOM_TEXT, ids=[c[0] for c in SYMPTOM_TEXT]
)
def test_symptom_text(case: str, title: str, summary: str, node: str | None, text: str) -> None:
    assert symptom_text(title, summary, node) == text


def past(incident_id: str, text: str, similarity: float, by: str | None = None) -> PastIncident:
    return PastIncident(
        incident_id=incident_id,
        system="S",
        text=text,
        first_seen="2026-11-03T00:00:00Z",
        resolved_by=by,
        similarity=similarity,
    )


def test_choose_prefers_a_task_fix_among_the_same_symptom_then_the_most_similar() -> None:
    text = "TomcatDown\nWAS is down"
    assert choose(text, []) is None
    assert choose(text, [past("a", "Other\nx", SIMILAR_AT - 0.001)]) is None
    # the same headline needs less
    assert choose(text, [past("b", "TomcatDown\ny", SAME_HEADLINE_AT)]) is not None
    assert choose(text, [past("b", "TomcatDown\ny", SAME_HEADLINE_AT - 0.001)]) is None
    candidates = [
        past("alert", "TomcatDown\nz", 0.99, by="alert"),
        past("task-far", "TomcatDown\nz", 0.93, by="task"),
        past("task-near", "TomcatDown\nz", 0.95, by="task"),
        past("wrong", "HighCPU\nz", 0.90, by="task"),
    ]
    chosen = choose(text, candidates)
    assert chosen is not None and chosen.incident_id == "task-near"
    assert headline("TomcatDown\nWAS") == "tomcatdown"


def replay_cases() -> list[tuple[str, str]]:
    groups = yaml.safe_load(CASES.read_text())
    columns = [[(name, c) for c in cases] for name, cases in groups.items()]
    ordered = [item for row in itertools.zip_longest(*columns) for item in row if item]
    return [(name, symptom_text(c["title"], c.get("summary", ""))) for name, c in ordered]


def test_the_thresholds_hold_on_the_labelled_incidents(tmp_path: Path) -> None:
    """No two different symptoms reach the bar; replayed through the real collection, each
    incident names an earlier one of its own symptom or none (bench/incident_memory_eval.py
    prints the whole table)."""
    cases = replay_cases()
    vectors = embed([text for _, text in cases])
    similarity = vectors @ vectors.T
    for i, j in itertools.combinations(range(len(cases)), 2):
        if cases[i][0] == cases[j][0]:
            continue
        bar = SAME_HEADLINE_AT if headline(cases[i][1]) == headline(cases[j][1]) else SIMILAR_AT
        assert similarity[i, j] < bar, (cases[i], cases[j], float(similarity[i, j]))

    client = chromadb.PersistentClient(
        str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    index = IncidentIndex(client)
    named = {"right": 0, "wrong": 0, "none": 0}
    for number, (symptom, text) in enumerate(cases):
        found = choose(text, index.nearest(text, "SYS"))
        named["none" if found is None else "right" if found.kind == symptom else "wrong"] += 1
        index.remember(
            PastIncident(f"I{number:03d}", "SYS", text, "2026-11-03T00:00:00Z", kind=symptom)
        )
    with_an_earlier = len(cases) - len({symptom for symptom, _ in cases})
    assert named["wrong"] == 0
    assert named["right"] >= 0.8 * with_an_earlier, named
    assert index.count() == len(cases)


def test_one_system_never_sees_another_and_a_second_resolution_replaces_the_first(
    tmp_path: Path,
) -> None:
    index = open_incidents(tmp_path)
    text = symptom_text("TomcatDown", "WAS is down: 10.10.1.11")
    index.remember(PastIncident("I1", "BUDGET", text, "2026-11-03T00:00:00Z", node="MOF-WAS-01"))
    index.remember(PastIncident("I2", "KTX", text, "2026-11-04T00:00:00Z", node="MOLIT-WAS-01"))
    [found] = index.nearest(text, "BUDGET")
    assert (found.incident_id, found.node) == ("I1", "MOF-WAS-01")
    assert found.similarity > 0.99
    index.remember(
        PastIncident(
            "I1", "BUDGET", text, "2026-11-03T00:00:00Z", resolved_by="task",
            action="RESTART_SERVICE", action_node="MOF-WAS-01", resolution="재기동으로 해결",
        )
    )  # fmt: skip
    [again] = index.nearest(text, "BUDGET", exclude="I9")
    assert (again.resolved_by, again.action, again.resolution) == (
        "task",
        "RESTART_SERVICE",
        "재기동으로 해결",
    )
    assert index.nearest(text, "BUDGET", exclude="I1") == []
    assert index.nearest(text, "NOPE") == []


def test_the_memory_and_the_exemplars_share_the_process_client(tmp_path: Path) -> None:
    incidents = open_incidents(tmp_path)
    exemplars = open_store(tmp_path)
    assert open_incidents(str(tmp_path)) is incidents
    client = chroma_client(tmp_path)
    assert exemplars.client is client
    names = {c.name for c in client.list_collections()}
    assert {COLLECTION, EXEMPLARS} <= names
