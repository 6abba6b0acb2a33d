"""Which institution, system and nodes a text names, or why that is unclear.

The built-in parser finds mentions of CMDB names; this decides what they add up to. A system
named without its institution implies it; an institution named alone implies its only
system (grounding asks when it has several); a name several systems share is narrowed by the
institution or nodes named beside it, else asked about. Environment words ('검증계', 'dev')
choose among a system's copies (environments.py has the rules). Words left over that look
like an institution or system ('국방부', '인사시스템', 'payroll system') mean the text names
something the CMDB lacks: the answer is UNKNOWN and a question, never the nearest guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmdb.document import Env
from cmdb.index import CmdbIndex, normalize_name
from hub.parser import lexicon
from hub.parser.environments import environments_of
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
    #: the systems (codes) a question about which system offers
    candidates: tuple[str, ...] = ()
    #: environments the text says outside any name ('검증계', 'staging'), and its words
    envs: frozenset[Env] = frozenset()
    env_words: tuple[str, ...] = ()


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
        self.environments = environments_of(index)

    def resolve(
        self, mentions: list[Mention], unknown_nodes: list[str], leftover: str, text: str = ""
    ) -> Naming:
        """What the mentions found in `text` name; `leftover` is the text no mention covers."""
        institutions = list(dict.fromkeys(m.value for m in mentions if m.kind == "institution"))
        systems: dict[Span, list[str]] = {}
        bases: dict[Span, list[str]] = {}
        nodes: dict[Span, list[str]] = {}
        by_kind = {"system": systems, "system_base": bases, "node": nodes}
        for mention in mentions:
            named = by_kind.get(mention.kind)
            if named is not None:
                named.setdefault((mention.start, mention.end), []).append(mention.value)
        envs = frozenset(env for m in mentions if m.kind == "env" for env in _envs(m.value))
        extra_institution, extra_system = unknown_names(leftover)
        node_codes, issue = self._nodes(nodes, institutions, systems)
        node_systems = {e.code for code in node_codes if (e := self.index.system_of(code))}
        words = tuple(dict.fromkeys(text[m.start : m.end] for m in mentions if m.kind == "env"))
        said = _Said(text, envs, words, institutions, node_systems)
        chosen, system_issue, choices, conflict, candidates = self._systems(systems, bases, said)
        issue = issue or system_issue
        if extra_institution and not institutions:
            issue = Issue("unknown_institution", extra_institution)
        elif unknown_nodes:
            issue = issue or Issue("unknown_node", ", ".join(unknown_nodes))
        system: str | None = None
        if len(chosen) > 1:
            issue = issue or Issue("several_systems")
            choices = choices or tuple(self._label(code) for code in chosen)
            candidates = candidates or tuple(chosen)
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
            candidates = ()
        elif system is not None:
            institution = self._institution_of(system)
        owners = {self._institution_of(code) for code in candidates}
        if candidates and institution is None and len(owners) == 1:
            institution = owners.pop()
        return Naming(
            institution=institution,
            system=system,
            nodes=tuple(dict.fromkeys(node_codes)) if system else (),
            issue=issue,
            choices=choices,
            named=bool(
                institutions or systems or bases or nodes or extra_institution or extra_system
            ),
            candidates=candidates if system is None else (),
            envs=envs,
            env_words=words,
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
        self, systems: dict[Span, list[str]], bases: dict[Span, list[str]], said: _Said
    ) -> tuple[list[str], Issue | None, tuple[str, ...], str, tuple[str, ...]]:
        """The systems named, narrowed by the institutions, nodes and environments said.

        Returns the systems chosen, an issue, the choices and candidates a question offers,
        and the name of a system the institution named beside it lacks.
        """
        chosen: dict[str, None] = {}
        issue: Issue | None = None
        choices: tuple[str, ...] = ()
        candidates: tuple[str, ...] = ()
        conflict = ""
        for span in sorted({*systems, *bases}):
            exact, base = systems.get(span, []), bases.get(span, [])
            if said.institutions:
                inside = [c for c in exact if self._institution_of(c) in said.institutions]
                inside_base = [c for c in base if self._institution_of(c) in said.institutions]
                if not inside and not inside_base:
                    conflict = conflict or self._name((exact or base)[0])
                    continue
                exact, base = inside, inside_base
            picked, found = self._pick(span, exact, base, said)
            if picked is not None:
                chosen[picked] = None
            elif found is not None and issue is None:
                issue, options = found
                candidates = options
                choices = tuple(self._label(c) for c in options)
        chosen.update(dict.fromkeys(sorted(said.node_systems)))
        return list(chosen), issue, choices, conflict, candidates

    def _pick(
        self, span: Span, exact: list[str], base: list[str], said: _Said
    ) -> tuple[str | None, tuple[Issue, tuple[str, ...]] | None]:
        """The one system a name stands for, else the question to ask and what it offers."""
        envs = self.environments
        pool = list(dict.fromkeys(exact or base))
        families = list(dict.fromkeys(code for c in [*exact, *base] for code in envs.family(c)))
        if said.node_systems:
            by_nodes = [c for c in families if c in said.node_systems]
            if by_nodes:
                return (by_nodes[0] if len(by_nodes) == 1 else None), None
        name = said.text[span[0] : span[1]].strip() or self._name(pool[0])
        if said.envs:
            wanted = set(said.envs)
            if envs.said(name):  # the name says an environment of its own ('X 검증계')
                wanted.update(env for c in exact if (env := envs.env_of(c)) is not None)
            fitting = [c for c in families if envs.env_of(c) in wanted]
            if len(fitting) == 1:
                return fitting[0], None
            subject = " ".join((name, *said.words))
            if fitting:
                return None, (Issue("which_env", subject), tuple(fitting))
            return None, (Issue("no_such_env", subject), tuple(families))
        if exact:
            if len(pool) == 1:
                return pool[0], None
            return None, (Issue("ambiguous_system", self._name(pool[0])), tuple(pool))
        # only a name with its environment word taken out: which of the copies?
        kind = "which_env" if len(families) > 1 else "partial_name"
        return None, (Issue(kind, name), tuple(families))

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


def _envs(value: str) -> tuple[Env, ...]:
    return tuple(env for env in ("prod", "stage", "dev") if env == value)


@dataclass(frozen=True, slots=True)
class _Said:
    """What else the text says, that narrows which system a name stands for."""

    text: str
    envs: frozenset[Env]
    #: the environment words as the text writes them
    words: tuple[str, ...]
    institutions: list[str]
    node_systems: set[str]
