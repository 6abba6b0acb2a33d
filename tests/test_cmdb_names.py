"""protocol.names: the CMDB refuses every name the agent would refuse, because both use it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from agent import patterns
from cmdb import document
from cmdb.document import load_cmdb
from cmdb.exceptions import CmdbFileError
from protocol import names

NODE = (
    "{asset_code: %(asset)s, host: %(host)s, layer: WAS, env: prod, agent: %(agent)s, "
    "services: [%(service)s]}"
)
GOOD = {"asset": "CITY-WAS-01", "host": "10.0.0.1", "agent": "city-agent", "service": "tomcat"}


def _file(**names_: str) -> str:
    node = NODE % {**GOOD, **names_}
    agent = names_.get("agent", GOOD["agent"])
    return (
        "institutions:\n  - code: CITY\n    name: 시청\n    systems:\n"
        "      - code: TAX\n        name: 세무\n        nodes:\n"
        f"          - {node}\n"
        f"agents:\n  - {{id: {agent}}}\n"
    )


def test_the_good_file_loads() -> None:
    assert load_cmdb(_file()).institutions[0].systems[0].nodes[0].asset_code == "CITY-WAS-01"


# What the issue found the hub accepting and the agent refusing, and its neighbours.
REFUSED = [
    ("asset", "'-CITY-WAS-01'", "asset_code"),
    ("asset", "'_CITY'", "asset_code"),
    ("asset", "CITY-WAS-01.guardia-prev", "asset_code"),
    ("asset", "A" * 65, "asset_code"),
    ("service", "'tomcat:8080'", "services[0]"),
    ("service", "'-tomcat'", "services[0]"),
    ("service", "s" * 129, "services[0]"),
    ("host", "'10.0.0.1 ; reboot'", "host"),
    ("host", "h" * 255, "host"),
    ("host", "'-h'", "host"),
    ("agent", "a" * 129, "agent"),
    ("agent", "'-a'", "agent"),
]


@pytest.mark.parametrize(("field", "value", "where"), REFUSED)
def test_the_cmdb_refuses_what_the_agent_refuses(field: str, value: str, where: str) -> None:
    with pytest.raises(CmdbFileError) as caught:
        load_cmdb(_file(**{field: value}))
    assert any(
        where in reason and "is not allowed" in reason for _, reason in caught.value.problems
    )


def test_both_sides_use_one_definition() -> None:
    assert document.CODE_PATTERN is names.ASSET_CODE
    assert document.SERVICE_PATTERN is names.SERVICE_NAME is patterns.SERVICE_NAME
    assert document.HOST_PATTERN is names.HOST is patterns.HOST
    assert document.AGENT_ID_PATTERN is names.AGENT_ID
    assert patterns.NODE_CODE is names.NODE_CODE and patterns.FILE_NAME is names.FILE_NAME


_AGENT_SIDE: dict[str, TypeAdapter[Any]] = {
    "asset": TypeAdapter(patterns.NodeCode),
    "service": TypeAdapter(patterns.ServiceName),
    "host": TypeAdapter(patterns.HostName),
}


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["asset", "service", "host", "agent"]),
    st.one_of(
        st.text(st.characters(codec="ascii"), min_size=1, max_size=70),
        # near misses: the union of the shapes, with no anchoring first character
        st.from_regex(r"\A[A-Za-z0-9.:_@+ -]{1,260}\Z"),
    ),
)
def test_anything_the_cmdb_takes_the_agent_takes(field: str, value: str) -> None:
    try:
        doc = load_cmdb(_file(**{field: "'" + value.replace("'", "''") + "'"}))
    except CmdbFileError:
        return
    node = doc.institutions[0].systems[0].nodes[0]
    taken = {"asset": node.asset_code, "service": node.services[0], "host": node.host}
    if field == "agent":
        assert patterns.AGENT_ID.match(node.agent)
        return
    _AGENT_SIDE[field].validate_python(taken[field])


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("app-1.0.war", None),
        ("a" * 196 + ".war", None),
        ("a" * 197 + ".war", "at most 200 characters"),
        ("app.war.guardia-prev", "must not end in"),
        ("app.war.guardia-new", "must not end in"),
        ("app..war", "must not contain '..'"),
        ("../app.war", "letters, digits"),
        ("app.war\n", "letters, digits"),
    ],
)
def test_file_names(name: str, problem: str | None) -> None:
    found = names.file_name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found)
    agent_side = TypeAdapter(patterns.FileName)
    if problem is None:
        agent_side.validate_python(name)
    else:
        with pytest.raises(ValidationError):
            agent_side.validate_python(name)


def test_a_trailing_newline_never_passes() -> None:
    for pattern in (names.NODE_CODE, names.ASSET_CODE, names.SERVICE_NAME, names.AGENT_ID):
        assert names.matches(pattern, "A1") and not names.matches(pattern, "A1\n")
    assert not patterns.AGENT_ID.match("agent-1\n")
