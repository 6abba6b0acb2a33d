"""Environment words in names and texts: which of a system's prod, staging and dev copies.

CMDBs name the copies of one system by adding an environment word to its name: 'X' and
'X 검증계', 'X-STG' and 'X dev'. Matching names alone loses that word ('X 검증계 재기동'
would find 'X' and drop '검증계'), so a staging request would target production. Here,
built once per CMDB:

- a system's environment: its nodes' env when they agree, else the environment word in its
  names when exactly one is there, else none;
- its family: the systems of its institution whose names are the same once environment
  words are taken out ('X', 'X 검증계', 'X-DEV' are one family);
- base names: a name with its environment word taken out that no system of the institution
  has as its own ('Y' when only 'Y 운영계' and 'Y 검증계' exist), so that 'Y 재기동' asks
  which one instead of not finding 'Y'.

The rules (names.py applies them): environment words a text says outside any CMDB name
choose within the family of the system it names ('X 검증계' picks the family's stage
system). A text that names a system by its own name and says no environment word gets that
system: the CMDB's owner gave the copies different names, and 'X' is the one called 'X'.
A text that says no environment word and names only a base name is asked which system; so
is one whose environment words fit no member of the family, or several (never the nearest
guess, never prod by default).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import get_args

from cmdb.document import Env
from cmdb.index import CmdbIndex, SystemEntry, normalize_name
from hub.parser import lexicon
from hub.parser.matcher import TermMatcher

ENVS: tuple[Env, ...] = get_args(Env)
#: what is left of a name around a removed environment word and means nothing alone
_SEPARATORS = " -_/()[].·"
#: base names too generic to stand for a system ('시스템' from '검증계 시스템')
_GENERIC = frozenset(
    normalize_name(word)
    for word in (*lexicon.SYSTEM_ENDINGS, *lexicon.ENGLISH_SYSTEM_WORDS, "system", "server")
)


def env_words() -> list[tuple[str, str, str]]:
    """The environment words as matcher terms: (word, 'env', env), and the words to ignore."""
    terms: list[tuple[str, str, str]] = [
        (word, "env", env) for env, words in lexicon.ENV_WORDS.items() for word in words
    ]
    terms.extend((word, "ignore", "") for word in lexicon.ENV_IGNORED_WORDS)
    return terms


class Environments:
    """Environments, families and base names of one CMDB's systems; build with `of`."""

    def __init__(self, index: CmdbIndex) -> None:
        self._matcher = TermMatcher(env_words())
        self._envs: dict[str, Env | None] = {}
        self._families: dict[str, tuple[str, ...]] = {}
        bases: dict[str, dict[str, set[str]]] = {}  # institution -> base -> system codes
        exact: dict[str, set[str]] = {}  # institution -> normalized names of its systems
        for entry in index.systems:
            names = (entry.code, entry.name, *entry.system.aliases)
            self._envs[entry.code] = self._env_of(entry, names)
            owned = exact.setdefault(entry.institution_code, set())
            owned.update(normalize_name(name) for name in names)
            for name in names:
                base = self.base(name)
                if base:
                    bases.setdefault(entry.institution_code, {}).setdefault(base, set()).add(
                        entry.code
                    )
        order = {entry.code: position for position, entry in enumerate(index.systems)}
        vocabulary = self._vocabulary()
        terms: list[tuple[str, str]] = []
        for institution, by_base in bases.items():
            for base, codes in by_base.items():
                ordered = sorted(codes, key=order.__getitem__)
                for code in ordered:
                    family = set(self._families.get(code, (code,))) | codes
                    self._families[code] = tuple(sorted(family, key=order.__getitem__))
                usable = base not in exact[institution] and base not in vocabulary
                if usable and len(base) >= 2:
                    terms.extend((base, code) for code in ordered)
        self.base_terms: tuple[tuple[str, str], ...] = tuple(terms)

    @staticmethod
    def _vocabulary() -> frozenset[str]:
        words: list[str] = [*lexicon.IGNORED_WORDS, *lexicon.PARTICLES, *lexicon.ENDINGS]
        for table in (lexicon.INTENT_WORDS, lexicon.LAYER_WORDS, lexicon.ENV_WORDS):
            for group in table.values():
                words.extend(group)
        return frozenset(normalize_name(word) for word in words) | _GENERIC

    def _env_of(self, entry: SystemEntry, names: Iterable[str]) -> Env | None:
        by_nodes = {node.env for node in entry.nodes}
        if len(by_nodes) == 1:
            return by_nodes.pop()
        by_names: set[Env] = set()
        for name in names:
            by_names |= self.said(name)
        return by_names.pop() if len(by_names) == 1 else None

    def said(self, text: str) -> set[Env]:
        """The environments the environment words in `text` name."""
        found: set[Env] = set()
        for mention in self._matcher.find(text):
            if mention.kind == "env":
                found.update(env for env in ENVS if env == mention.value)
        return found

    def base(self, name: str) -> str:
        """`name` without its environment words, normalized; '' when nothing is left."""
        mentions = [m for m in self._matcher.find(name) if m.kind == "env"]
        if not mentions:
            return normalize_name(name)
        chars = list(name)
        for mention in mentions:
            chars[mention.start : mention.end] = " " * (mention.end - mention.start)
        return normalize_name("".join(chars)).strip(_SEPARATORS)

    def env_of(self, system: str) -> Env | None:
        """A system's environment (by its code), or None when it has no single one."""
        return self._envs.get(system)

    def family(self, system: str) -> tuple[str, ...]:
        """The systems that differ from `system` only by environment words, itself included."""
        return self._families.get(system, (system,))


_CACHE: weakref.WeakKeyDictionary[CmdbIndex, Environments] = weakref.WeakKeyDictionary()


def environments_of(index: CmdbIndex) -> Environments:
    """The `Environments` of `index`, built on first use and kept as long as the index lives."""
    found = _CACHE.get(index)
    if found is None:
        found = _CACHE[index] = Environments(index)
    return found
