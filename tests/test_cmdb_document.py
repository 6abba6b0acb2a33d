"""cmdb.document: loading refuses bad files by line and reason; dumping is canonical."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmdb.document import (
    Agent,
    CmdbDocument,
    Institution,
    Node,
    System,
    load_cmdb,
    load_cmdb_file,
)
from cmdb.dump import dump_cmdb
from cmdb.exceptions import CmdbFileError

DATA = Path(__file__).resolve().parent / "data"
EVAL_CMDB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cmdb.yaml"

GOOD = """\
institutions:
  - code: MOF
    name: 기획재정부
    aliases: [기재부, MOEF]
    systems:
      - code: BUDGET
        name: 예산시스템
        aliases: [dBrain]
        nodes:
          - asset_code: MOF-WAS-01
            host: 10.10.1.11
            layer: WAS
            env: prod
            agent: mof-agent-01
            services: [tomcat]
agents:
  - id: mof-agent-01
    institution: MOF
"""


def test_loads_the_documented_example() -> None:
    doc = load_cmdb(GOOD)
    institution = doc.institutions[0]
    assert institution.code == "MOF"
    assert institution.aliases == ("기재부", "MOEF")
    node = institution.systems[0].nodes[0]
    assert node == Node(
        asset_code="MOF-WAS-01",
        host="10.10.1.11",
        port=22,
        layer="WAS",
        env="prod",
        agent="mof-agent-01",
        services=("tomcat",),
    )
    assert doc.agents == (Agent(id="mof-agent-01", institution="MOF"),)


def _bad(text: str) -> CmdbFileError:
    with pytest.raises(CmdbFileError) as caught:
        load_cmdb(text, source="bad.yaml")
    assert caught.value.source == "bad.yaml"
    return caught.value


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("institutions: [\n", 2, "YAML syntax error"),
        ("institutions:\n  - code: MOF\n   name: x\n", 3, "YAML syntax error"),
        (_replace("layer: WAS", "layer: APP"), 12, "unknown layer 'APP'"),
        (_replace("env: prod", "env: production"), 13, "unknown env 'production'"),
        (_replace("code: MOF\n", "code: mof\n"), 2, "'mof' is not allowed; it must be upper-case"),
        (_replace("code: BUDGET", "code: BUDGET SYS"), 6, "is not allowed"),
        (_replace("asset_code: MOF-WAS-01", "asset_code: mof was 01"), 10, "is not allowed"),
        (_replace("agent: mof-agent-01", "agent: nobody"), 14, "agent 'nobody' is not in agents"),
        (_replace("institution: MOF\n", "institution: MOIS\n"), 18, "unknown institution 'MOIS'"),
        (_replace("    name: 기획재정부\n", ""), 2, "missing required key 'name'"),
        (_replace("            host: 10.10.1.11\n", ""), 10, "missing required key 'host'"),
        (_replace("    aliases: [기재부, MOEF]", "    colour: blue"), 4, "unknown key 'colour'"),
        (_replace("host: 10.10.1.11", "host: 10.10.1.11\n            port: ssh"), 12, "integer"),
        (_replace("host: 10.10.1.11", "host: 10.10.1.11\n            port: 70000"), 12, "65535"),
        (_replace("name: 예산시스템", "name: 2024"), 7, "must be a string"),
        (_replace("aliases: [dBrain]", "aliases: dBrain"), 8, "must be a list"),
        (_replace("services: [tomcat]", "services: [tomcat, 'rm -rf /']"), 15, "is not allowed"),
        (_replace("aliases: [dBrain]", "aliases: ['dBrain ']"), 8, "leading or trailing"),
        (_replace("code: BUDGET\n", "code: BUDGET\n        code: OTHER\n"), 7, "duplicate key"),
        ("- just a list\n", 1, "must be a mapping"),
        ("", 1, "must be a mapping"),
    ],
)
def test_a_bad_file_names_its_line_and_reason(text: str, line: int, words: str) -> None:
    error = _bad(text)
    assert error.line == line, error
    assert words in error.reason, error
    assert f":{line}:" in str(error)


def test_a_system_without_institution_is_refused() -> None:
    text = GOOD + "systems:\n  - code: LOST\n    name: 미아시스템\n"
    error = _bad(text)
    assert error.line == 19
    assert "every system belongs to an institution" in error.reason


def _duplicates(node: str, institution: str, system: str, agent: str) -> str:
    """A file with one pair of entries that may share a code, by choice of the arguments."""
    return f"""\
institutions:
  - code: A
    name: 가
    systems:
      - code: S1
        name: 하나
        nodes:
          - {{asset_code: N-1, host: h1, layer: WAS, env: prod, agent: ag}}
          - {{asset_code: {node}, host: h2, layer: WAS, env: prod, agent: ag}}
  - code: {institution}
    name: 나
    systems:
      - {{code: {system}, name: 둘}}
agents:
  - {{id: ag, institution: A}}
  - {{id: {agent}, institution: A}}
"""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (_duplicates("N-1", "B", "S2", "ag2"), 9, "duplicate asset code 'N-1'"),
        (_duplicates("N-2", "A", "S2", "ag2"), 10, "duplicate institution code 'A'"),
        (_duplicates("N-2", "B", "S1", "ag2"), 13, "duplicate system code 'S1'"),
        (_duplicates("N-2", "B", "S2", "ag"), 16, "duplicate agent id 'ag'"),
    ],
)
def test_duplicates_are_refused_at_the_second(text: str, line: int, words: str) -> None:
    error = _bad(text)
    assert (error.line, words in error.reason) == (line, True), error


def test_distinct_codes_load() -> None:
    assert len(load_cmdb(_duplicates("N-2", "B", "S2", "ag2")).institutions) == 2


def test_the_first_problem_by_line_is_reported() -> None:
    text = _replace("layer: WAS", "layer: APP").replace("code: MOF\n", "code: mof\n", 1)
    assert _bad(text).line == 2


def test_anchors_that_expand_without_bound_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    text = "\n".join(lines) + "\ninstitutions: []\n"
    assert "expands to more than" in _bad(text).reason


def test_load_cmdb_file_reads_utf8_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cmdb.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_cmdb_file(path) == load_cmdb(GOOD)
    with pytest.raises(CmdbFileError, match="cannot read the file"):
        load_cmdb_file(tmp_path / "missing.yaml")
    path.write_bytes("institutions: []\n# \xff".encode("latin-1"))
    with pytest.raises(CmdbFileError, match="not UTF-8"):
        load_cmdb_file(path)


@pytest.mark.parametrize("path", [EVAL_CMDB, DATA / "cmdb_unseen.yaml"], ids=["eval", "unseen"])
def test_dump_is_canonical_and_round_trips(path: Path) -> None:
    doc = load_cmdb_file(path)
    text = dump_cmdb(doc)
    assert load_cmdb(text) == doc
    assert dump_cmdb(load_cmdb(text)) == text
    assert "기획재정부" in text or "서울대학교병원" in text  # Unicode written as itself
    assert "\\u" not in text


def test_dump_keeps_a_fixed_key_order() -> None:
    text = dump_cmdb(load_cmdb(GOOD))
    assert text.splitlines()[:4] == [
        "institutions:",
        "- code: MOF",
        "  name: 기획재정부",
        "  aliases: [기재부, MOEF]",
    ]
    assert (
        "    - {asset_code: MOF-WAS-01, host: 10.10.1.11, port: 22, layer: WAS, env: prod, "
        "agent: mof-agent-01, services: [tomcat]}" in text
    )
    assert text.endswith("agents:\n- {id: mof-agent-01, institution: MOF}\n")


_CODES = st.from_regex(r"\A[A-Z0-9][A-Z0-9_-]{0,11}\Z")
_AGENT_IDS = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,10}\Z")
_SERVICES = st.lists(st.from_regex(r"\A[a-z][a-z0-9@._-]{0,8}\Z"), max_size=2)
_HOSTS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9.:_-]{0,20}\Z")
_TEXTS = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def documents(draw: st.DrawFn) -> CmdbDocument:
    agent_ids = draw(st.lists(_AGENT_IDS, min_size=1, max_size=3, unique=True))
    codes = draw(st.lists(_CODES, min_size=0, max_size=12, unique=True))
    institutions = []
    pool = iter(codes)
    for _ in range(draw(st.integers(0, 3))):
        code = next(pool, None)
        if code is None:
            break
        systems = []
        for _ in range(draw(st.integers(0, 2))):
            system_code = next(pool, None)
            if system_code is None:
                break
            nodes = tuple(
                Node(
                    asset_code=f"{system_code}-{n}",
                    host=draw(_HOSTS),
                    port=draw(st.integers(1, 65535)),
                    layer=draw(st.sampled_from(["WAS", "WEB", "DB"])),
                    env=draw(st.sampled_from(["prod", "stage", "dev"])),
                    agent=draw(st.sampled_from(agent_ids)),
                    services=tuple(draw(_SERVICES)),
                )
                for n in range(draw(st.integers(0, 3)))
            )
            aliases = tuple(draw(st.lists(_TEXTS, max_size=3)))
            systems.append(
                System(code=system_code, name=draw(_TEXTS), aliases=aliases, nodes=nodes)
            )
        aliases = tuple(draw(st.lists(_TEXTS, max_size=3)))
        institutions.append(
            Institution(code=code, name=draw(_TEXTS), aliases=aliases, systems=tuple(systems))
        )
    owners = [i.code for i in institutions] + [None]
    agents = tuple(Agent(id=a, institution=draw(st.sampled_from(owners))) for a in agent_ids)
    return CmdbDocument(institutions=tuple(institutions), agents=agents)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_any_document_round_trips_byte_for_byte(doc: CmdbDocument) -> None:
    text = dump_cmdb(doc)
    assert load_cmdb(text) == doc
    assert dump_cmdb(load_cmdb(text)) == text


# Several problems at once: every one is listed, in line order, each with its reason.
MANY_PROBLEMS = (
    GOOD.replace("code: MOF\n", "code: mof\n", 1)
    .replace("layer: WAS", "layer: APP")
    .replace("agent: mof-agent-01\n            services", "agent: nobody\n            services")
    .replace("institution: MOF\n", "institution: MOIS\n")
)


def test_every_problem_is_listed_by_line() -> None:
    error = _bad(MANY_PROBLEMS)
    assert [line for line, _ in error.problems] == [2, 12, 14, 18]
    reasons = [reason for _, reason in error.problems]
    assert "'mof' is not allowed" in reasons[0]
    assert "unknown layer 'APP'" in reasons[1]
    assert "agent 'nobody' is not in agents" in reasons[2]
    assert "unknown institution 'MOIS'" in reasons[3]
    assert (error.line, error.reason) == (2, reasons[0])
    assert error.format().splitlines() == [f"bad.yaml:{line}: {r}" for line, r in error.problems]
    assert str(error) == "bad.yaml: 4 problems\n" + error.format()


def test_one_problem_reads_as_one_line() -> None:
    error = _bad(_replace("layer: WAS", "layer: APP"))
    assert len(error.problems) == 1
    assert str(error) == error.format() == f"bad.yaml:12: {error.reason}"


def test_duplicates_are_found_beside_invalid_entries() -> None:
    text = _duplicates("N-1", "B", "S2", "ag2").replace("host: h2", "host: 'h 2'")
    assert [(line, reason.split(":")[0]) for line, reason in _bad(text).problems] == [
        (9, "institutions[0].systems[0].nodes[1].host"),
        (9, "duplicate asset code 'N-1'"),
    ]
