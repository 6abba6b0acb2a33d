"""cmdb.index: lookups by code, name and alias; nodes in numbering order; immutability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex, normalize_name

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("SNUH", "SNUH"),
        ("snuh", "SNUH"),
        ("서울대학교병원", "SNUH"),
        ("서울대병원", "SNUH"),
        ("서울대 병원", "SNUH"),
        ("서울 대 병원", "SNUH"),
        ("seoul national university hospital", "SNUH"),
        ("SEOUL NATIONAL  UNIVERSITY HOSPITAL", "SNUH"),
        ("한국대", "HKU"),
        ("Mapo", "MAPO"),
    ],
)
def test_institutions_by_code_name_or_alias(index: CmdbIndex, name: str, code: str) -> None:
    assert [i.code for i in index.find_institutions(name)] == [code]


def test_unknown_names_find_nothing(index: CmdbIndex) -> None:
    assert index.find_institutions("국방부") == ()
    assert index.find_systems("payroll") == ()
    assert index.institution("NOPE") is None
    assert index.system("NOPE") is None
    assert index.node("NOPE") is None
    assert index.agent_of("NOPE") is None


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("EMR", ["EMR"]),
        ("emr 검증", ["EMR-STG"]),
        ("EMR검증", ["EMR-STG"]),
        ("전자의무기록시스템 검증", ["EMR-STG"]),
        ("학사 포털", ["PORTAL"]),
        ("PORTAL-DEV", ["PORTAL-DEV"]),
        ("인사시스템", ["SNUH-HR", "HKU-HR"]),
        ("인사 시스템", ["SNUH-HR", "HKU-HR"]),
    ],
)
def test_systems_by_code_name_or_alias(index: CmdbIndex, name: str, codes: list[str]) -> None:
    assert [entry.code for entry in index.find_systems(name)] == codes


def test_a_shared_system_name_narrows_by_institution(index: CmdbIndex) -> None:
    found = index.find_systems("인사시스템", institution="HKU")
    assert [(e.institution_code, e.code) for e in found] == [("HKU", "HKU-HR")]
    assert index.find_systems("EMR", institution="HKU") == ()


def test_systems_of_an_institution_in_file_order(index: CmdbIndex) -> None:
    assert [e.code for e in index.systems_of("HKU")] == ["PORTAL", "PORTAL-DEV", "HKU-HR", "LOGAN"]


def test_nodes_layer_by_layer_in_asset_code_order(index: CmdbIndex) -> None:
    assert [n.asset_code for n in index.nodes_of("EMR")] == [
        "SNUH-EMR-AP-A",
        "SNUH-EMR-AP-B",
        "SNUH-EMR-AP-C",
        "SNUH-EMR-WS-A",
        "SNUH-EMR-DB-A",
        "SNUH-EMR-DB-B",
    ]
    assert [n.asset_code for n in index.nodes_of("EMR", "DB")] == ["SNUH-EMR-DB-A", "SNUH-EMR-DB-B"]
    assert index.nodes_of("LOGAN", "WAS") == ()
    assert index.nodes_of("NOPE") == ()


def test_nth_node_is_one_based_within_a_layer(index: CmdbIndex) -> None:
    assert index.nth_node("EMR", "WAS", 2).asset_code == "SNUH-EMR-AP-B"  # type: ignore[union-attr]
    assert index.nth_node("EMR", "WAS", 0) is None
    assert index.nth_node("EMR", "WAS", 4) is None
    assert index.nth_node("LOGAN", "DB", 2).asset_code == "HKU-ELK-DB2"  # type: ignore[union-attr]


def test_node_agent_system_and_env(index: CmdbIndex) -> None:
    node = index.node("HKU-PT-WAS2")
    assert node is not None and node.port == 2222
    assert index.system_of("HKU-PT-WAS2").code == "PORTAL"  # type: ignore[union-attr]
    assert index.agent_of("HKU-PT-WAS2").id == "hku-agent"  # type: ignore[union-attr]
    assert index.envs_of(["HKU-PT-WAS2", "HKU-PTDEV-WAS1", "NOPE"]) == {"prod", "dev"}
    assert index.envs_of([]) == frozenset()


def test_terms_cover_every_name_for_the_parser(index: CmdbIndex) -> None:
    terms = set(index.terms)
    assert ("서울대병원", "institution", "SNUH") in terms
    assert ("emrstaging", "system", "EMR-STG") in terms
    assert ("snuh-emr-ap-a", "node", "SNUH-EMR-AP-A") in terms
    assert ("172.16.1.11", "node", "SNUH-EMR-AP-A") in terms
    assert len(index.terms) == len(terms)


def test_normalize_name_ignores_case_width_and_spacing() -> None:
    assert normalize_name(" 예산 시스템 ") == normalize_name("예산시스템") == "예산시스템"
    assert normalize_name("ＤＢｒａｉｎ") == normalize_name("d brain") == "dbrain"


def test_the_index_is_immutable(index: CmdbIndex) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        index.systems = ()  # type: ignore[misc]
    entry = index.system("EMR")
    assert entry is not None
    with pytest.raises(TypeError):
        entry.layers["WAS"] = ()  # type: ignore[index]
