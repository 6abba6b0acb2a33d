"""Which institution, system and nodes a text names, or why that is unclear.

The built-in parser finds mentions of CMDB names; this decides what they add up to. A system
named without its institution implies it; an institution named alone implies its only
system (grounding asks when it has several); a name several systems share is narrowed by the
institution or nodes named beside it, else asked about. Words left over that look like an
institution or system ('국방부', '인사시스템', 'payroll system') mean the text names
something the CMDB lacks: the answer is UNKNOWN and a question, never the nearest guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmdb.index import CmdbIndex, normalize_name
from hub.parser import lexicon
from hub.parser.grounding import Issue, system_label
from hub.parser.matcher import Mention

_LEFTOVER = re.compile(r"[\uac00-\ud7a3]+|[A-Za-z][A-Za-z0-9'-]*")
_PARTICLES = tuple(sorted(lexicon.PARTICLES, key=len, reverse=True))
_ENDINGS = tuple(sorted((normalize_name(e) for e in lexicon.ENDINGS), key=len, reverse=True))

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Naming:
    """What the names in a text come to, in CMDB codes."""

    institution: str | None
    system: str | None
    nodes: tuple[str, ...]
    issue: Issue | None
    #: what a question should offer when the CMDB's own lists would not do
    choices: tuple[str, ...]
    #: the text named something (known or not), so an UNKNOWN intent deserves a question
    named: bool


def _stem(word: str) -> str:
    """A Korean word without the request ending and the particle it carries."""
    for suffixes in (_ENDINGS, _PARTICLES):
        for suffix in suffixes:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                word = word[: -len(suffix)]
                break
    return word


def _is_institution_word(word: str) -> bool:
    if word in lexicon.ENGLISH_INSTITUTION_WORDS:
        return True
    return (
        len(word) >= 3
        and word.endswith(lexicon.INSTITUTION_ENDINGS)
        and not word.endswith(lexicon.NOT_INSTITUTIONS)
    )


def unknown_names(leftover: str) -> tuple[str | None, str | None]:
    """Words left over that look like an institution and a system the CMDB does not have."""
    institution: str | None = None
    system: str | None = None
    previous: tuple[str, int] | None = None
    for match in _LEFTOVER.finditer(leftover):
        raw = match.group()
        korean = raw[0] >= "\uac00"
        word = _stem(raw) if korean else raw.lower()
        if institution is None and _is_institution_word(word):
            institution = word if korean else raw
        if system is None:
            if word.endswith(lexicon.SYSTEM_ENDINGS) and word not in lexicon.SYSTEM_ENDINGS:
                system = word  # '인사시스템'
            elif (
                (word in lexicon.SYSTEM_ENDINGS or word.rstrip("s") in lexicon.ENGLISH_SYSTEM_WORDS)
                and previous is not None
                and not leftover[previous[1] : match.start()].strip()
                and previous[0].lower() not in lexicon.NOT_SYSTEM_NAMES
            ):
                system = f"{previous[0]} {raw}"  # 'payroll system', '인사 시스템'
        previous = (word if korean else raw, match.end())
    return institution, system


class NameResolver:
    """Resolves mentions against one index; the parser holds one."""

    def __init__(self, index: CmdbIndex) -> None:
        self.index = index

    def resolve(self, mentions: list[Mention], unknown_nodes: list[str], leftover: str) -> Naming:
        institutions = list(dict.fromkeys(m.value for m in mentions if m.kind == "institution"))
        systems: dict[Span, list[str]] = {}
        nodes: dict[Span, list[str]] = {}
        for mention in mentions:
            if mention.kind in ("system", "node"):
                named = systems if mention.kind == "system" else nodes
                named.setdefault((mention.start, mention.end), []).append(mention.value)
        extra_institution, extra_system = unknown_names(leftover)
        node_codes, issue = self._nodes(nodes, institutions, systems)
        node_systems = {e.code for code in node_codes if (e := self.index.system_of(code))}
        chosen, system_issue, choices, conflict = self._systems(systems, institutions, node_systems)
        issue = issue or system_issue
        if extra_institution and not institutions:
            issue = Issue("unknown_institution", extra_institution)
        elif unknown_nodes:
            issue = issue or Issue("unknown_node", ", ".join(unknown_nodes))
        system: str | None = None
        if len(chosen) > 1:
            issue = issue or Issue("several_systems")
            choices = choices or tuple(self._label(code) for code in chosen)
        elif chosen:
            system = chosen[0]
            if institutions and self._institution_of(system) not in institutions:
                issue = issue or Issue("conflict", self._name(system))
        elif conflict:
            issue = issue or Issue("conflict", conflict)
        elif extra_system:
            issue = issue or Issue("unknown_system", f"'{extra_system}'")
        institution = institutions[0] if institutions else None
        if issue is not None and issue.kind in ("unknown_institution", "conflict"):
            system = None
            institution = institutions[0] if issue.kind == "conflict" else None
        elif system is not None:
            institution = self._institution_of(system)
        return Naming(
            institution=institution,
            system=system,
            nodes=tuple(dict.fromkeys(node_codes)) if system else (),
            issue=issue,
            choices=choices,
            named=bool(institutions or systems or nodes or extra_institution or extra_system),
        )

    def _nodes(
        self, nodes: dict[Span, list[str]], institutions: list[str], systems: dict[Span, list[str]]
    ) -> tuple[list[str], Issue | None]:
        """Asset codes named; a host that several networks share is narrowed by the names."""
        named_systems = {code for codes in systems.values() for code in codes}
        codes: list[str] = []
        for candidates in nodes.values():
            if len(candidates) > 1:
                candidates = [c for c in candidates if self._fits(c, institutions, named_systems)]
            if len(candidates) != 1:
                return [], Issue("unknown_node", ", ".join(sorted(candidates)))
            codes.append(candidates[0])
        return codes, None

    def _systems(
        self, systems: dict[Span, list[str]], institutions: list[str], node_systems: set[str]
    ) -> tuple[list[str], Issue | None, tuple[str, ...], str]:
        """The systems named, narrowed by the institutions and nodes named beside them."""
        chosen: dict[str, None] = {}
        issue: Issue | None = None
        choices: tuple[str, ...] = ()
        conflict = ""
        for candidates in systems.values():
            if institutions:
                inside = [c for c in candidates if self._institution_of(c) in institutions]
                if not inside:
                    conflict = conflict or self._name(candidates[0])
                    continue
                candidates = inside
            if len(candidates) > 1 and node_systems:
                candidates = [c for c in candidates if c in node_systems] or candidates
            if len(candidates) > 1:
                issue = issue or Issue("ambiguous_system", self._name(candidates[0]))
                choices = choices or tuple(self._label(c) for c in candidates)
                continue
            chosen[candidates[0]] = None
        chosen.update(dict.fromkeys(sorted(node_systems)))
        return list(chosen), issue, choices, conflict

    def _fits(self, asset_code: str, institutions: list[str], named_systems: set[str]) -> bool:
        entry = self.index.system_of(asset_code)
        if entry is None:
            return False
        if named_systems:
            return entry.code in named_systems
        return not institutions or entry.institution_code in institutions

    def _institution_of(self, system: str) -> str | None:
        entry = self.index.system(system)
        return entry.institution_code if entry else None

    def _name(self, system: str) -> str:
        entry = self.index.system(system)
        return entry.name if entry else system

    def _label(self, system: str) -> str:
        entry = self.index.system(system)
        return f"{entry.institution.name} {system_label(entry)}" if entry else system
