"""An immutable in-memory index of one CMDB document, for the parser and the pipeline.

Built once per document (`CmdbIndex.from_document`) so that every lookup a command needs is
a dict access: names and aliases are matched case-insensitively and without regard to
spacing, because operators write '급여 시스템' and '급여시스템', 'eHR' and 'EHR'.
Nodes are always handed out layer by layer (WAS, WEB, DB) and in asset-code order within a
layer: '2번' means the second node of a layer in that order. Pure: no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, NamedTuple

from cmdb.document import LAYERS, Agent, CmdbDocument, Env, Institution, Layer, Node, System

TermKind = Literal["institution", "system", "node"]


def normalize_name(text: str) -> str:
    """The key names are compared by: NFKC, lower case, whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


class NameTerm(NamedTuple):
    """One way the CMDB lets a text name something: a normalized name and what it names."""

    text: str
    kind: TermKind
    code: str


@dataclass(frozen=True, slots=True, eq=False)
class SystemEntry:
    """A system with its institution and its nodes: layer by layer, asset-code order within."""

    institution: Institution
    system: System
    nodes: tuple[Node, ...]
    layers: Mapping[Layer, tuple[Node, ...]]

    @property
    def code(self) -> str:
        return self.system.code

    @property
    def institution_code(self) -> str:
        return self.institution.code

    @property
    def name(self) -> str:
        return self.system.name


@dataclass(frozen=True, slots=True, weakref_slot=True, eq=False)
class CmdbIndex:
    """Lookups over one `CmdbDocument`; build it with `from_document`."""

    document: CmdbDocument
    systems: tuple[SystemEntry, ...]
    terms: tuple[NameTerm, ...]
    _institutions: Mapping[str, Institution] = field(repr=False)
    _systems: Mapping[str, SystemEntry] = field(repr=False)
    _institution_names: Mapping[str, tuple[str, ...]] = field(repr=False)
    _system_names: Mapping[str, tuple[SystemEntry, ...]] = field(repr=False)
    _nodes: Mapping[str, tuple[Node, SystemEntry]] = field(repr=False)
    _agents: Mapping[str, Agent] = field(repr=False)

    @classmethod
    def from_document(cls, document: CmdbDocument) -> CmdbIndex:
        """Index `document` (already validated by `load_cmdb` or the database)."""
        institutions: dict[str, Institution] = {}
        systems: dict[str, SystemEntry] = {}
        nodes: dict[str, tuple[Node, SystemEntry]] = {}
        # normalized name -> codes, as ordered sets: one alias may name several things
        institution_names: dict[str, dict[str, None]] = {}
        system_names: dict[str, dict[str, None]] = {}
        terms: list[NameTerm] = []
        for institution in document.institutions:
            institutions[institution.code] = institution
            for name in (institution.code, institution.name, *institution.aliases):
                key = normalize_name(name)
                institution_names.setdefault(key, {})[institution.code] = None
                terms.append(NameTerm(key, "institution", institution.code))
            for system in institution.systems:
                by_code = sorted(system.nodes, key=lambda node: node.asset_code)
                per_layer = {
                    layer: tuple(node for node in by_code if node.layer == layer)
                    for layer in LAYERS
                }
                # layer by layer (WAS, WEB, DB), asset-code order within each layer
                ordered = tuple(node for layer in LAYERS for node in per_layer[layer])
                entry = SystemEntry(institution, system, ordered, MappingProxyType(per_layer))
                systems[system.code] = entry
                for name in (system.code, system.name, *system.aliases):
                    key = normalize_name(name)
                    system_names.setdefault(key, {})[system.code] = None
                    terms.append(NameTerm(key, "system", system.code))
                for node in ordered:
                    nodes[node.asset_code] = (node, entry)
                    for name in (node.asset_code, node.host):
                        terms.append(NameTerm(normalize_name(name), "node", node.asset_code))
        return cls(
            document=document,
            systems=tuple(systems.values()),
            terms=tuple(dict.fromkeys(terms)),
            _institutions=MappingProxyType(institutions),
            _systems=MappingProxyType(systems),
            _institution_names=MappingProxyType(
                {key: tuple(codes) for key, codes in institution_names.items()}
            ),
            _system_names=MappingProxyType(
                {key: tuple(systems[code] for code in codes) for key, codes in system_names.items()}
            ),
            _nodes=MappingProxyType(nodes),
            _agents=MappingProxyType({agent.id: agent for agent in document.agents}),
        )

    @property
    def institutions(self) -> tuple[Institution, ...]:
        return self.document.institutions

    def institution(self, code: str) -> Institution | None:
        """The institution with exactly this code."""
        return self._institutions.get(code)

    def system(self, code: str) -> SystemEntry | None:
        """The system with exactly this code."""
        return self._systems.get(code)

    def find_institutions(self, name: str) -> tuple[Institution, ...]:
        """Institutions whose code, name or alias is `name` (case- and spacing-insensitive)."""
        codes = self._institution_names.get(normalize_name(name), ())
        return tuple(self._institutions[code] for code in codes)

    def find_systems(self, name: str, institution: str | None = None) -> tuple[SystemEntry, ...]:
        """Systems called `name`, within `institution` (a code) when one is given."""
        found = self._system_names.get(normalize_name(name), ())
        if institution is None:
            return found
        return tuple(entry for entry in found if entry.institution_code == institution)

    def systems_of(self, institution: str) -> tuple[SystemEntry, ...]:
        """The systems of an institution (by code), in file order."""
        return tuple(entry for entry in self.systems if entry.institution_code == institution)

    def node(self, asset_code: str) -> Node | None:
        """The node with exactly this asset code."""
        found = self._nodes.get(asset_code)
        return found[0] if found else None

    def system_of(self, asset_code: str) -> SystemEntry | None:
        """The system a node belongs to."""
        found = self._nodes.get(asset_code)
        return found[1] if found else None

    def nodes_of(self, system: str, layer: Layer | None = None) -> tuple[Node, ...]:
        """A system's nodes (WAS, WEB, DB; asset-code order within), or one layer's."""
        entry = self._systems.get(system)
        if entry is None:
            return ()
        return entry.nodes if layer is None else entry.layers[layer]

    def nth_node(self, system: str, layer: Layer, n: int) -> Node | None:
        """The n-th (1-based) node of a layer in asset-code order: what '2번' means."""
        nodes = self.nodes_of(system, layer)
        return nodes[n - 1] if 1 <= n <= len(nodes) else None

    def agent_of(self, asset_code: str) -> Agent | None:
        """The agent that reaches a node."""
        node = self.node(asset_code)
        return self._agents.get(node.agent) if node else None

    def envs_of(self, asset_codes: Iterable[str]) -> frozenset[Env]:
        """The environments of the named nodes; unknown codes are skipped."""
        return frozenset(node.env for code in asset_codes if (node := self.node(code)))
