"""The cheap part of a decision: what no embedding can turn into a suggestion.

`screen` is the detector's own first step (filters, names taken out); `heard_kinds` adds
that some keyword rule must hear a kind, since the detector never suggests a kind no rule
heard (detector.py, step 4). Both are pure; `heard_kinds` asks the rules before the
filters, as most chat is heard by no rule (names out ~10 us, rules ~50 us, the filters
~10-50 us more on this machine), so the hub calls it on chat lines in its event loop and
hands only the rest to a thread, the model and chromadb (loaded when one first needs them).
"""

from __future__ import annotations

from dataclasses import dataclass

from cmdb.index import CmdbIndex
from hub.suggest.filters import addressed_to_bot, veto
from hub.suggest.kinds import Kind
from hub.suggest.rules import heard
from hub.suggest.text import without_names


@dataclass(frozen=True, slots=True)
class Screened:
    #: the line with CMDB names taken out, as it is embedded; empty when `reason` is set
    masked: str
    #: why it can never be a suggestion ('addressed', 'empty', a filter's reason), or None
    reason: str | None


def screen(text: str, index: CmdbIndex) -> Screened:
    """Filters first: a line they catch is final, whatever its words."""
    if addressed_to_bot(text):
        return Screened("", "addressed")
    masked = without_names(text, index)
    if not masked:
        return Screened("", "empty")
    vetoed = veto(masked)
    if vetoed is not None:
        return Screened("", vetoed)
    return Screened(masked, None)


def heard_kinds(text: str, index: CmdbIndex) -> frozenset[Kind]:
    """The kinds the detector could still suggest for `text`: none when it surely says None.

    The same decision as `screen` then `heard`, in the cheaper order.
    """
    if addressed_to_bot(text):
        return frozenset()
    masked = without_names(text, index)
    if not masked:
        return frozenset()
    kinds = heard(masked)
    if kinds and veto(masked) is not None:
        return frozenset()
    return kinds


def may_suggest(text: str, index: CmdbIndex) -> bool:
    """False when `SymptomDetector.detect` would surely answer None (no model needed)."""
    return bool(heard_kinds(text, index))
