"""The cheap part of a decision: what no embedding can turn into a suggestion.

`screen` is the detector's own first step (filters, names taken out); `may_suggest` adds
that some keyword rule must hear a kind, since the detector never suggests a kind no rule
heard (detector.py, step 4). Both are pure and take well under a millisecond, so the hub
calls `may_suggest` on every chat line in its event loop and hands only the rest to a
thread, the model and chromadb (which are loaded the first time one needs them).
"""

from __future__ import annotations

from dataclasses import dataclass

from cmdb.index import CmdbIndex
from hub.suggest.filters import addressed_to_bot, veto
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


def may_suggest(text: str, index: CmdbIndex) -> bool:
    """False when `SymptomDetector.detect` would surely answer None (no model needed)."""
    screened = screen(text, index)
    return screened.reason is None and bool(heard(screened.masked))
