"""No eval name and no eval sentence in hub/suggest/: names come from the CMDB, exemplars are
generic. Checked for the shared eval set and for the unseen set alike."""

from __future__ import annotations

from pathlib import Path

import orjson

from cmdb.document import load_cmdb_file
from cmdb.index import normalize_name
from hub.parser import lexicon
from hub.suggest.exemplars import EXEMPLARS

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
DATA = Path(__file__).resolve().parent / "data"
SETS = [
    (EVAL / "suggestions.jsonl", EVAL / "cmdb.yaml"),
    (DATA / "suggestions_unseen.jsonl", DATA / "cmdb_unseen.yaml"),
]
SOURCES = sorted((ROOT / "hub" / "suggest").glob("*.py"))


def _names(cmdb: Path) -> set[str]:
    doc = load_cmdb_file(cmdb)
    names: set[str] = set()
    for institution in doc.institutions:
        names.update((institution.code, institution.name, *institution.aliases))
        for system in institution.systems:
            names.update((system.code, system.name, *system.aliases))
            names.update(node.asset_code for node in system.nodes)
            names.update(node.host for node in system.nodes)
    names.update(agent.id for agent in doc.agents)
    # words of the parser's own vocabulary ('DB', 'WAS') are not names
    vocabulary = {
        normalize_name(word)
        for words in (*lexicon.INTENT_WORDS.values(), *lexicon.LAYER_WORDS.values())
        for word in words
    }
    return {name for name in names if len(name) >= 2 and normalize_name(name) not in vocabulary}


def _sentences(cases: Path) -> set[str]:
    lines = cases.read_bytes().splitlines()
    return {orjson.loads(line)["text"] for line in lines if line.strip()}


def _sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8").lower() for path in SOURCES}


def test_no_eval_name_is_written_into_the_engine() -> None:
    sources = _sources()
    assert {"rules.py", "filters.py", "exemplars.py", "detector.py"} <= set(sources)
    found = [
        (name, file)
        for _, cmdb in SETS
        for name in _names(cmdb)
        for variant in {name.lower(), name.lower().replace(" ", "")}
        for file, text in sources.items()
        if variant in text
    ]
    assert found == []


def test_no_eval_sentence_is_an_exemplar_or_in_the_code() -> None:
    flattened = {file: normalize_name(text) for file, text in _sources().items()}
    exemplars = {normalize_name(text) for texts in EXEMPLARS.values() for text in texts}
    found = [
        (sentence, file)
        for cases, _ in SETS
        for sentence in _sentences(cases)
        for file, text in flattened.items()
        if normalize_name(sentence) in text
    ]
    assert found == []
    assert not exemplars & {normalize_name(s) for cases, _ in SETS for s in _sentences(cases)}


def test_the_leak_checks_would_catch_a_leak() -> None:
    shared, unseen = _names(SETS[0][1]), _names(SETS[1][1])
    assert {"디브레인", "dBrain", "MOF-WAS-01", "나라장터", "민원"} <= shared
    assert {"로그분석시스템", "kiosk", "EMR", "HKU-PT-WAS1"} <= unseen
    assert "WAS" not in shared and "DB" not in unseen
    assert len(_sentences(SETS[0][0])) >= 40 and len(_sentences(SETS[1][0])) >= 50
