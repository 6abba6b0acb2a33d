"""The decision: is a chat line a symptom, which one, and the plan to offer for it.

In order, each step able to end it:
1. nothing left once names are taken out, or a filter says it is no suggestion
   (filters.py: addressed to the bot, over, planned, a topic, a question);
2. one embedding and one chromadb query give the similarity of the line to the nearest
   exemplar of each class (kinds and `none`) that the room's scope sees; a dismissal in
   view that is nearly the same line (>= DISMISSED_SIMILARITY) ends it;
3. the kinds a keyword rule hears (rules.py) get RULE_BONUS added;
4. the best kind is suggested when a rule heard it, and it beats `none` by NONE_MARGIN and
   the next kind by KIND_MARGIN. `score` is its margin over `none`.

e5 similarities are compressed (most pairs of sentences fall in 0.80-0.93), so only these
differences mean anything, and the semantic layer alone is not trusted to speak (it puts
'메모리 사용률이 95%예요' 0.04 above `none`, as a full disk).
Calibration, on both eval sets (shared, and unseen with its own CMDB; bench/suggest_eval.py):
every symptom line is heard by its kind and only by it; without the bonus, its semantic
margin over `none` runs from -0.025 ('503 에러' reads closer to log errors, by 0.011) to
+0.088, and every line of chat no filter catches is heard by no rule. RULE_BONUS 0.05 puts
the weakest symptom 0.025 over `none` and 0.039 over the next kind; NONE_MARGIN and
KIND_MARGIN 0.01 keep 0.015 and 0.029 of that as slack. Against `none` the semantic layer
stops heard chat that has a close `none` exemplar (it must win by 0.04). Identical lines
embed at 1.0 and punctuation or an ending changed at 0.99; paraphrases at 0.95-0.97, so
DISMISSED_SIMILARITY 0.97 catches a dismissed line said again, and a paraphrase is left to
the dismissal's weight as a `none` exemplar.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cmdb.index import CmdbIndex
from hub.parser.plan import Plan
from hub.suggest.embedding import embed
from hub.suggest.grounding import ground
from hub.suggest.kinds import KIND_NAMES, KINDS, NONE_CLASS, Kind
from hub.suggest.precheck import screen
from hub.suggest.rules import heard
from hub.suggest.scope import Scope, parse_scope
from hub.suggest.store import ExemplarStore
from hub.suggest.text import language_of, without_names

RULE_BONUS = 0.05
NONE_MARGIN = 0.01
KIND_MARGIN = 0.01
#: a dismissal this close is the same line said again: never suggested in that scope
DISMISSED_SIMILARITY = 0.97


@dataclass(frozen=True, slots=True)
class Thresholds:
    rule_bonus: float = RULE_BONUS
    none_margin: float = NONE_MARGIN
    kind_margin: float = KIND_MARGIN
    dismissed_similarity: float = DISMISSED_SIMILARITY


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A symptom seen, and the read-only plan to offer for it."""

    kind: Kind
    plan: Plan
    #: the winning kind's margin over `none` (see the module docstring)
    score: float
    #: the writer's language, 'ko' or 'en'
    lang: str
    #: system codes to offer as buttons when the plan asks which system
    choices: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        """The action code its button runs (the plan's first and only action)."""
        return self.plan.action_sequence[0]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The whole decision, for the bench and for explaining a silence."""

    suggestion: Suggestion | None
    #: 'symptom', a filter's reason, 'empty', 'dismissed', 'unheard' (no rule heard the best
    #: kind) or 'quiet' (it did not beat `none` and the next kind by the margins)
    reason: str
    #: the best kind and its margin over `none`, when the semantic layer ran
    kind: Kind | None = None
    score: float | None = None
    scores: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    #: seconds spent embedding and querying chromadb (0 when a filter ended it)
    embed_seconds: float = 0.0
    query_seconds: float = 0.0


def _scope(scope: Scope | str | None) -> Scope | None:
    return scope if isinstance(scope, Scope) or scope is None else parse_scope(scope)


class SymptomDetector:
    """Decides per chat line; holds no state but the store, so one serves every room."""

    def __init__(self, store: ExemplarStore, thresholds: Thresholds | None = None) -> None:
        self.store = store
        self.thresholds = thresholds or Thresholds()

    def detect(self, text: str, scope: Scope | str | None, index: CmdbIndex) -> Suggestion | None:
        """The suggestion for `text` in a room of `scope`, or None. CPU-bound: ~10-30 ms."""
        return self.assess(text, scope, index).suggestion

    def assess(self, text: str, scope: Scope | str | None, index: CmdbIndex) -> Verdict:
        """`detect` with its reasons and timings."""
        room = _scope(scope)
        screened = screen(text, index)
        if screened.reason is not None:
            return Verdict(None, screened.reason)
        masked = screened.masked
        started = time.perf_counter()
        vector = embed([masked])[0]
        embedded = time.perf_counter()
        found = self.store.similarities(vector, room)
        queried = time.perf_counter()
        timings = {"embed_seconds": embedded - started, "query_seconds": queried - embedded}
        limits = self.thresholds
        ruled = heard(masked)
        scores = {k: found.by_class[k] + limits.rule_bonus * (k in ruled) for k in KIND_NAMES}
        none = found.by_class[NONE_CLASS]
        ranked = sorted(KIND_NAMES, key=lambda k: scores[k], reverse=True)
        best, second = ranked[0], ranked[1]
        margin = round(scores[best] - none, 4)
        all_scores = MappingProxyType({**scores, NONE_CLASS: none})
        if found.dismissal >= limits.dismissed_similarity:
            return Verdict(None, "dismissed", best, margin, all_scores, **timings)
        if best not in ruled:
            return Verdict(None, "unheard", best, margin, all_scores, **timings)
        if margin < limits.none_margin or scores[best] - scores[second] < limits.kind_margin:
            return Verdict(None, "quiet", best, margin, all_scores, **timings)
        grounded = ground(KINDS[best], text, room, index)
        suggestion = Suggestion(best, grounded.plan, margin, language_of(text), grounded.choices)
        return Verdict(suggestion, "symptom", best, margin, all_scores, **timings)

    def dismiss(self, text: str, scope: Scope | str | None, index: CmdbIndex) -> str:
        """Remember `text` as a false alarm in `scope` (names taken out); returns its id."""
        return self.store.add_dismissal(without_names(text, index), _scope(scope))
