"""The built-in parser: rules over the CMDB's own names, Korean and English, no network.

Every name it knows comes from the CMDB it is given (codes, names, aliases, asset codes,
hosts) and every word from lexicon.py, so it works for any customer's CMDB. One pass of a
term matcher finds names, layer and intent words; regular expressions find what has a shape
(file names, node numbers, asset-code-like tokens); what is left over is looked at only to
notice names the CMDB lacks, so that they become UNKNOWN instead of a guess. Each action
word is read with what stands beside it: a negated one ('재기동하지 마') is no request, and a
text that forbids anything is never a change plan (negation.py). Environment words choose
among a system's copies (environments.py). A room's scope stands in for the system a text
does not name (grounding.scoped). A `BuiltinParser` is built once per `CmdbIndex`
(`parse_command` caches it), because building the matcher is the slow part and parsing must
stay well under a millisecond or two.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Iterable

from cmdb.document import CmdbDocument
from cmdb.index import CmdbIndex
from hub.parser import lexicon, negation
from hub.parser.environments import env_words
from hub.parser.exceptions import CommandTooLong
from hub.parser.grounding import Issue, Reading, Scope, plan_from_reading, scoped
from hub.parser.matcher import Mention, TermMatcher
from hub.parser.names import NameResolver
from hub.parser.plan import CHANGE_INTENTS, LAYERS, Intent, Layer, Plan
from protocol.names import file_name_problem

#: longer than any command a person types into a chat
MAX_COMMAND_CHARS = 2000

_ADDRESS = re.compile(r"^\s*@(?:guardia|bot)\b[\s,:;]*", re.IGNORECASE)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_EXTENSIONS = "|".join(
    re.escape(ext) for ext in sorted(lexicon.ARTIFACT_EXTENSIONS, key=len, reverse=True)
)
_ARTIFACT = re.compile(
    rf"(?<![A-Za-z0-9._+-])[A-Za-z0-9][A-Za-z0-9._+-]*\.(?:{_EXTENSIONS})(?![A-Za-z0-9_+-])",
    re.IGNORECASE,
)
# Tokens shaped like asset codes or addresses: if the CMDB does not know one, its parts
# ('ABC', 'WAS', '09') must not be read as names and numbers.
_CODE_LIKE = re.compile(
    r"(?<![A-Za-z0-9_.-])(?:[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+|\d{1,3}(?:\.\d{1,3}){3})"
    r"(?![A-Za-z0-9_.-])"
)
_COMPACT_WORDS = "|".join(sorted(lexicon.COMPACT_LAYER_WORDS, key=len, reverse=True))
_COMPACT = re.compile(
    rf"(?<![A-Za-z0-9_.-])({_COMPACT_WORDS})[-_#]?(\d{{1,3}})(?![A-Za-z0-9_.-])", re.IGNORECASE
)
_JOIN = "|".join(re.escape(w) for w in (*lexicon.NUMBER_JOINERS, *lexicon.NUMBER_RANGES))
# bounded, so that a text of many numbers stays linear to scan
_NUMBER_LIST = rf"\d{{1,3}}(?:\s*(?:{_JOIN})\s*\d{{1,3}}){{0,{lexicon.MAX_LISTED_NUMBERS}}}"
_COUNTERS = "|".join(lexicon.NUMBER_COUNTERS)
_COUNTED = re.compile(rf"(?<![\d.])({_NUMBER_LIST})\s*(?:{_COUNTERS})", re.IGNORECASE)
_NATIVE = re.compile(rf"({'|'.join(lexicon.NATIVE_ORDINALS)})\s*번\s*째")
_UNITS = "|".join(re.escape(unit) for unit in lexicon.COUNT_UNITS)
_AFTER_LAYER = re.compile(
    rf"[\s#_-]*(?:no\.?\s*)?({_NUMBER_LIST})(?![\d.])(?!\s*(?:{_UNITS}))", re.IGNORECASE
)
_NOUNS = "|".join(re.escape(noun) for noun in lexicon.NUMBER_NOUNS)
_AFTER_NOUN = re.compile(
    rf"(?<![A-Za-z])(?:{_NOUNS})\s*#?\s*({_NUMBER_LIST})(?![\d.])", re.IGNORECASE
)
_RANGE = re.compile(
    rf"(\d{{1,3}})\s*(?:{'|'.join(re.escape(r) for r in lexicon.NUMBER_RANGES)})\s*(\d{{1,3}})"
)
_DIGITS = re.compile(r"\d{1,3}")
_WORD_BEFORE = re.compile(r"([A-Za-z']+)[^A-Za-z\uac00-\ud7a3]*$")
_WORD_AFTER = re.compile(r"^[^A-Za-z\uac00-\ud7a3]*([A-Za-z']+)")
_NAME_KINDS = frozenset({"institution", "system", "node"})
_LAYER_NAMES: dict[str, Layer] = {layer: layer for layer in LAYERS}
#: a range in a command never spans more nodes than this ('1~3번')
_MAX_RANGE = 50
#: a file name quoted back in a question is cut here
_SHOWN_CHARS = 60


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _numbers(listed: str) -> list[int]:
    """'1, 2' -> [1, 2]; '1~3' -> [1, 2, 3]."""
    found: list[int] = []
    for match in _RANGE.finditer(listed):
        low, high = int(match[1]), int(match[2])
        if low <= high <= low + _MAX_RANGE:
            found.extend(range(low, high + 1))
    listed = _RANGE.sub(" ", listed)
    found.extend(int(digits) for digits in _DIGITS.findall(listed))
    return [number for number in found if number > 0]


class BuiltinParser:
    """The rules parser for one CMDB; build it once, call `parse` per command."""

    def __init__(self, index: CmdbIndex) -> None:
        self.index = index
        terms: list[tuple[str, str, str]] = [(t.text, t.kind, t.code) for t in index.terms]
        for intent, words in lexicon.INTENT_WORDS.items():
            terms.extend((word, "intent", intent) for word in words)
        for layer, words in lexicon.LAYER_WORDS.items():
            terms.extend((word, "layer", layer) for word in words)
        terms.extend((word, "ignore", "") for word in lexicon.IGNORED_WORDS)
        terms.extend(env_words())
        self._names = NameResolver(index)
        terms.extend(
            (base, "system_base", code) for base, code in self._names.environments.base_terms
        )
        self._matcher = TermMatcher(terms)

    def parse(self, text: str, *, scope: Scope | None = None) -> Plan:
        """The plan for one command; raises `CommandTooLong` for an over-long text.

        `scope` is the room's (institution code, system code), either None: a text that
        names no system is grounded in it (grounding.scoped). Without it, only the text counts.
        """
        return plan_from_reading(scoped(self.read(text), scope, self.index), self.index)

    def read(self, text: str) -> Reading:
        """What the text says, in CMDB codes, before the target rules."""
        if len(text) > MAX_COMMAND_CHARS:
            raise CommandTooLong(len(text), MAX_COMMAND_CHARS)
        text = unicodedata.normalize("NFKC", _ADDRESS.sub("", text, count=1))
        if len(text) > MAX_COMMAND_CHARS:  # compatibility characters can expand ('ﷺ')
            raise CommandTooLong(len(text), MAX_COMMAND_CHARS)
        korean = text_is_korean(text)
        artifacts = list(_ARTIFACT.finditer(text))
        masked = _blank(text, (m.span() for m in artifacts))
        mentions = self._matcher.find(masked)
        unknown_nodes, mentions = self._unknown_codes(masked, mentions)
        name_spans = [(m.start, m.end) for m in mentions if m.kind in _NAME_KINDS]
        numbered = _blank(masked, [*name_spans, *(span for _, span in unknown_nodes)])
        layers = self._layers(text, mentions)
        numbers, number_spans = self._node_numbers(numbered, layers)
        intent, refused = self._intent(masked, mentions)  # file names are no words
        leftover = _blank(numbered, [*((m.start, m.end) for m in mentions), *number_spans])
        naming = self._names.resolve(mentions, [code for code, _ in unknown_nodes], leftover, text)
        # layers named, including those written into a node number ('was02')
        named_layers = [layer for _, layer in layers] + [layer for layer, _ in numbers if layer]
        files = list(dict.fromkeys(m.group() for m in artifacts))
        deployable = tuple(name for name in files if file_name_problem(name) is None)
        issue, candidates, choices = naming.issue, naming.candidates, naming.choices
        if intent == "UNKNOWN" and refused:
            issue, candidates, choices = Issue("negated"), (), ()
        elif intent == "DEPLOY" and issue is None and len(deployable) < len(files):
            refused_name = next(name for name in files if name not in deployable)
            shown = refused_name[:_SHOWN_CHARS] + (
                "..." if len(refused_name) > _SHOWN_CHARS else ""
            )
            issue = Issue("bad_file_name", shown)
        return Reading(
            intent=intent,
            korean=korean,
            institution=naming.institution,
            system=naming.system,
            layers=tuple(dict.fromkeys(named_layers)),
            nodes=naming.nodes,
            numbers=tuple(dict.fromkeys(numbers)),
            artifacts=deployable,
            issue=issue,
            named=naming.named,
            extra_choices=choices,
            candidates=candidates,
            envs=naming.envs,
            env_words=naming.env_words,
            refused_change=refused,
        )

    def _unknown_codes(
        self, text: str, mentions: list[Mention]
    ) -> tuple[list[tuple[str, tuple[int, int]]], list[Mention]]:
        """Asset-code-like tokens the CMDB does not know, and the mentions outside them."""
        unknown: list[tuple[str, tuple[int, int]]] = []
        for match in _CODE_LIKE.finditer(text):
            start, end = match.span()
            if _COMPACT.fullmatch(match.group()):
                continue
            exact = any(m.start == start and m.end == end for m in mentions)
            if not exact:
                unknown.append((match.group(), (start, end)))
        if unknown:
            mentions = [
                m for m in mentions if not any(s < m.end and m.start < e for _, (s, e) in unknown)
            ]
        return unknown, mentions

    @staticmethod
    def _layers(text: str, mentions: list[Mention]) -> list[tuple[int, Layer]]:
        layers: list[tuple[int, Layer]] = []
        for mention in mentions:
            if mention.kind != "layer":
                continue
            word = text[mention.start : mention.end]
            if word.lower() == "was" and word != "WAS":
                before = _WORD_BEFORE.search(text[max(0, mention.start - 40) : mention.start])
                after = _WORD_AFTER.search(text[mention.end : mention.end + 40])
                if (before and before[1].lower() in lexicon.WAS_VERB_BEFORE) or (
                    after and after[1].lower() in lexicon.WAS_VERB_AFTER
                ):
                    continue  # the English verb, not the layer
            layers.append((mention.end, _LAYER_NAMES[mention.value]))
        return layers

    @staticmethod
    def _node_numbers(
        text: str, layers: list[tuple[int, Layer]]
    ) -> tuple[list[tuple[Layer | None, int]], list[tuple[int, int]]]:
        """Node numbers ('2번', 'was02', 'WAS 1, 2', 'node 3') with the layer each is of."""
        found: list[tuple[int, Layer | None, list[int], tuple[int, int]]] = []
        for match in _COMPACT.finditer(text):
            compact = lexicon.COMPACT_LAYER_WORDS[match[1].lower()]
            found.append((match.start(), compact, [int(match[2])], match.span()))
        for match in _COUNTED.finditer(text):
            found.append((match.start(), None, _numbers(match[1]), match.span()))
        for match in _NATIVE.finditer(text):
            number = lexicon.NATIVE_ORDINALS[match[1]]
            found.append((match.start(), None, [number], match.span()))
        for match in _AFTER_NOUN.finditer(text):
            found.append((match.start(), None, _numbers(match[1]), match.span()))
        for end, named in layers:
            after = _AFTER_LAYER.match(text, end)
            if after is not None:
                found.append((after.start(1), named, _numbers(after[1]), after.span(1)))
        numbers: list[tuple[Layer | None, int]] = []
        for position, inline, listed, _ in sorted(found, key=lambda item: item[0]):
            layer = inline
            if layer is None and layers:
                before = [lay for end, lay in layers if end <= position]
                layer = before[-1] if before else layers[0][1]
            numbers.extend((layer, number) for number in listed)
        return numbers, [span for *_, span in found]

    @staticmethod
    def _intent(text: str, mentions: list[Mention]) -> tuple[Intent, bool]:
        """The intent requested, and whether the text refuses any change (negation.py)."""
        said = [mention for mention in mentions if mention.kind == "intent"]
        requested: set[str] = set()
        symptom = negated = False
        for position, mention in enumerate(said):
            stance = negation.stance(
                text,
                mention.start,
                mention.end,
                previous=said[position - 1].end if position else 0,
                following=said[position + 1].start if position + 1 < len(said) else -1,
            )
            if stance == "request":
                requested.add(mention.value)
            negated = negated or (stance == "negated" and mention.value in CHANGE_INTENTS)
            symptom = symptom or stance == "symptom"
        refused = negated or negation.prohibition_in(text)
        if refused:
            requested -= CHANGE_INTENTS
        intent: Intent = next((i for i in lexicon.INTENT_PRIORITY if i in requested), "UNKNOWN")
        if intent == "UNKNOWN" and symptom:
            intent = "STATUS"  # '재기동이 안 돼요': what is up is the first thing to know
        return intent, refused


def text_is_korean(text: str) -> bool:
    """Whether questions back should be in Korean: the text has Hangul."""
    return _HANGUL.search(text) is not None


_PARSERS: weakref.WeakKeyDictionary[CmdbIndex, BuiltinParser] = weakref.WeakKeyDictionary()


def builtin_parser(index: CmdbIndex) -> BuiltinParser:
    """The parser for `index`, built on first use and kept as long as the index lives."""
    parser = _PARSERS.get(index)
    if parser is None:
        parser = _PARSERS[index] = BuiltinParser(index)
    return parser


def parse_command(text: str, cmdb: CmdbIndex | CmdbDocument, *, scope: Scope | None = None) -> Plan:
    """Parse one command with the built-in parser: pure, fast once the index has a parser.

    Pass a `CmdbIndex` (build it once with `CmdbIndex.from_document`); a `CmdbDocument`
    works too but is indexed afresh on every call. `scope` is the room's (institution code,
    system code), see `BuiltinParser.parse`. Raises `CommandTooLong` past MAX_COMMAND_CHARS
    characters; any other text gives a plan.
    """
    index = cmdb if isinstance(cmdb, CmdbIndex) else CmdbIndex.from_document(cmdb)
    return builtin_parser(index).parse(text, scope=scope)
