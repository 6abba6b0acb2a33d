"""The CMDB YAML file (operations.md, "CMDB file") as immutable pydantic models.

`load_cmdb` refuses a bad file whole with a `CmdbFileError` that lists every problem found,
each with its line, because an operator fixes a file by line, not by pydantic location, and
fixing one problem per run is slow. Lines come from `yaml.compose`: the composed node tree is
walked once to remember where every key and value sits, and pydantic's error locations are
mapped back onto it. Codes, hosts, agent ids and service names must have the shapes in
protocol/names.py, the ones the agent checks too: the hub never stores a name the agent
would refuse. `cmdb.dump.dump_cmdb` writes the canonical form that the
database export builds on: `load_cmdb(dump_cmdb(d)) == d` and dumping is deterministic.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import ErrorDetails

from cmdb.exceptions import CmdbFileError, CmdbProblem
from protocol import names

Layer = Literal["WAS", "WEB", "DB"]
Env = Literal["prod", "stage", "dev"]
LAYERS: tuple[Layer, ...] = ("WAS", "WEB", "DB")
ENVS: tuple[Env, ...] = ("prod", "stage", "dev")

#: institution, system and asset codes; asset codes travel to the agent as node codes
CODE_PATTERN = names.ASSET_CODE
#: agent ids and service units travel to the agent, which checks them against the same
AGENT_ID_PATTERN = names.AGENT_ID
SERVICE_PATTERN = names.SERVICE_NAME
HOST_PATTERN = names.HOST
#: composed YAML nodes visited at most: anchors and aliases must not expand without bound
MAX_YAML_NODES = 200_000

# Characters a person cannot see or type, which would also not survive a YAML round trip.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _readable(value: str) -> str:
    if not value or value != value.strip():
        raise ValueError("must be non-empty, without leading or trailing spaces")
    for char in value:
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            raise ValueError(f"contains the invisible character U+{ord(char):04X}")
    return value


Code = Annotated[StrictStr, Field(pattern=CODE_PATTERN)]
Text = Annotated[StrictStr, Field(max_length=200), AfterValidator(_readable)]
Host = Annotated[StrictStr, Field(pattern=HOST_PATTERN)]
AgentId = Annotated[StrictStr, Field(pattern=AGENT_ID_PATTERN)]
Service = Annotated[StrictStr, Field(pattern=SERVICE_PATTERN)]

#: what each pattern asks for, in an operator's words
_SHAPES = {
    CODE_PATTERN: f"upper-case letters, digits, - and _ (at most {names.MAX_CODE_CHARS}), "
    "starting with a letter or digit",
    HOST_PATTERN: "a host name or IP address: letters, digits, . : _ - (at most 254), "
    "starting with a letter or digit",
    AGENT_ID_PATTERN: "letters, digits, . _ - (at most 128), starting with a letter or digit",
    SERVICE_PATTERN: "a service unit: letters, digits, . _ @ - (at most 128), starting with a "
    "letter or digit",
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Node(_Model):
    asset_code: Code
    host: Host
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 22
    layer: Layer
    env: Env
    agent: AgentId
    services: tuple[Service, ...] = ()


class System(_Model):
    code: Code
    name: Text
    aliases: tuple[Text, ...] = ()
    nodes: tuple[Node, ...] = ()


class Institution(_Model):
    code: Code
    name: Text
    aliases: tuple[Text, ...] = ()
    systems: tuple[System, ...] = ()


class Agent(_Model):
    id: AgentId
    institution: Code | None = None


class CmdbDocument(_Model):
    """A whole CMDB file: institutions, their systems and nodes, and the agents."""

    institutions: tuple[Institution, ...] = ()
    agents: tuple[Agent, ...] = ()


Location = tuple[str | int, ...]


class _Marks:
    """Where each key and value of the composed YAML sits, by pydantic-style location."""

    def __init__(self) -> None:
        self.value_line: dict[Location, int] = {}
        self.key_line: dict[Location, int] = {}
        self.problems: list[tuple[int, str]] = []
        self._visited = 0

    def walk(self, node: yaml.Node, path: Location = ()) -> None:
        self._visited += 1
        if self._visited > MAX_YAML_NODES:
            raise CmdbFileError(
                f"the file expands to more than {MAX_YAML_NODES} YAML nodes "
                "(anchors and aliases repeated too often)",
                line=node.start_mark.line + 1,
            )
        self.value_line.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.problems.append((line, f"{_where(path)}: duplicate key '{key}'"))
                seen.add(key)
                self.key_line.setdefault((*path, key), line)
                self.walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                self.walk(item, (*path, position))

    def line_of(self, path: Location, *, key: bool = False) -> int | None:
        """The line of `path`, else of its nearest enclosing value."""
        if key and path in self.key_line:
            return self.key_line[path]
        probe = path
        while probe:
            if probe in self.value_line:
                return self.value_line[probe]
            probe = probe[:-1]
        return self.value_line.get(())


def _where(path: Location) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the top level"


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "tuple_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
}


#: a value quoted in a reason is cut here: a 10,000-character name need not be repeated
_SHOWN_CHARS = 60


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 4]}...{text[-1]}"


def _reason(error: ErrorDetails) -> str:
    """One pydantic error, in the words of the file rather than of the model."""
    loc = tuple(error["loc"])
    where = _where(loc)
    kind = error["type"]
    given = _shown(error.get("input"))
    if kind == "missing":
        return f"{_where(loc[:-1])}: missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        if len(loc) == 1 and loc[0] in ("systems", "nodes"):
            return (
                f"'{loc[0]}' at the top level: every system belongs to an institution; "
                f"put it under institutions[].systems"
            )
        return f"{_where(loc[:-1])}: unknown key '{loc[-1]}'"
    if kind == "literal_error":
        choices = LAYERS if loc[-1] == "layer" else ENVS if loc[-1] == "env" else ()
        allowed = " | ".join(choices) if choices else str(error.get("ctx", {}).get("expected"))
        return f"{where}: unknown {loc[-1]} {given} (expected {allowed})"
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        if pattern in _SHAPES:
            return f"{where}: {given} is not allowed; it must be {_SHAPES[pattern]}"
        return f"{where}: {given} does not match {pattern.strip('^$')}"
    if kind in _TYPE_WORDS:
        return (
            f"{where}: must be {_TYPE_WORDS[kind]}, got {type(error.get('input')).__name__} {given}"
        )
    return f"{where}: {error['msg']}"


def _parse_yaml(text: str) -> tuple[Any, _Marks]:
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        raise CmdbFileError(
            f"YAML syntax error: {problem or 'unreadable'}",
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise CmdbFileError(f"YAML error: {exc}", line=None) from None
    marks = _Marks()
    if root is None or not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise CmdbFileError(
            "the file must be a mapping with 'institutions' and 'agents'", line=line
        )
    marks.walk(root)
    return data, marks


def _entries(parent: Any, key: str, path: Location) -> Iterator[tuple[Location, dict[str, Any]]]:
    """The mappings listed under `parent[key]`, with their locations; anything else skipped."""
    listed = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(listed, list):
        for position, item in enumerate(listed):
            if isinstance(item, dict):
                yield (*path, key, position), item


def _string(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _cross_problems(data: dict[str, Any]) -> Iterator[tuple[Location, str]]:
    """Rules that span entries: unique codes, and references that must resolve.

    Read from the raw data rather than the validated document, so that they are found even
    when other entries are invalid: an operator sees every problem in one run.
    """
    institutions: set[str] = set()
    systems: set[str] = set()
    assets: set[str] = set()
    agents: set[str] = set()
    for apath, agent in _entries(data, "agents", ()):
        agent_id = _string(agent, "id")
        if agent_id is not None and agent_id in agents:
            yield (*apath, "id"), f"duplicate agent id '{agent_id}'"
        agents.update([agent_id] if agent_id is not None else [])
    for ipath, institution in _entries(data, "institutions", ()):
        code = _string(institution, "code")
        if code is not None and code in institutions:
            yield (*ipath, "code"), f"duplicate institution code '{code}'"
        institutions.update([code] if code is not None else [])
        for spath, system in _entries(institution, "systems", ipath):
            code = _string(system, "code")
            if code is not None and code in systems:
                yield (*spath, "code"), f"duplicate system code '{code}'"
            systems.update([code] if code is not None else [])
            for npath, node in _entries(system, "nodes", spath):
                asset = _string(node, "asset_code")
                if asset is not None and asset in assets:
                    yield (*npath, "asset_code"), f"duplicate asset code '{asset}'"
                assets.update([asset] if asset is not None else [])
                agent_id = _string(node, "agent")
                if agent_id is not None and agent_id not in agents:
                    yield (*npath, "agent"), f"node {asset}: agent '{agent_id}' is not in agents"
    for apath, agent in _entries(data, "agents", ()):
        owner = _string(agent, "institution")
        if owner is not None and owner not in institutions:
            yield (
                (*apath, "institution"),
                f"agent '{_string(agent, 'id')}': unknown institution '{owner}'",
            )


def load_cmdb(text: str, source: str = "<cmdb>") -> CmdbDocument:
    """Read a CMDB file's text; a bad file raises `CmdbFileError` listing every problem."""
    try:
        data, marks = _parse_yaml(text)
    except CmdbFileError as exc:
        raise exc.from_source(source) from None
    problems = [CmdbProblem(line, reason) for line, reason in marks.problems]
    doc: CmdbDocument | None = None
    try:
        doc = CmdbDocument.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = marks.line_of(loc, key=error["type"] == "extra_forbidden")
            problems.append(CmdbProblem(line or 1, _reason(error)))
    for path, reason in _cross_problems(data):
        problems.append(CmdbProblem(marks.line_of(path) or 1, reason))
    if problems:
        raise CmdbFileError(source=source, problems=problems)
    assert doc is not None  # pydantic raised, or it gave a document
    return doc


def load_cmdb_file(path: str | Path) -> CmdbDocument:
    """Read a CMDB file from disk (UTF-8)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CmdbFileError(f"cannot read the file: {exc.strerror}", source=source) from None
    except UnicodeDecodeError as exc:
        raise CmdbFileError(f"not UTF-8 text ({exc.reason})", source=source) from None
    return load_cmdb(text, source=source)
