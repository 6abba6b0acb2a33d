"""A chat line made ready for the rules and the model: NFKC, CMDB names taken out.

Names are taken out because they carry no symptom and would mislead both layers: a system
called '로그관리시스템' is not a log error, and an alias such as '급여' or 'payroll' would pull the
embedding toward whatever exemplar happens to share it. Which system is meant is grounding's
business (grounding.py), from the original text. The name matcher is the parser's own
`TermMatcher` over the index's terms, built once per index.
"""

from __future__ import annotations

import re
import unicodedata
import weakref

from cmdb.index import CmdbIndex
from hub.parser.matcher import TermMatcher

#: longer lines are cut before they are embedded: a symptom is said in the first sentences
MAX_TEXT_CHARS = 500

_SPACES = re.compile(r"\s+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_NAME_KINDS = frozenset({"institution", "system", "node"})
_MATCHERS: weakref.WeakKeyDictionary[CmdbIndex, TermMatcher] = weakref.WeakKeyDictionary()


def _matcher(index: CmdbIndex) -> TermMatcher:
    matcher = _MATCHERS.get(index)
    if matcher is None:
        matcher = _MATCHERS[index] = TermMatcher((t.text, t.kind, t.code) for t in index.terms)
    return matcher


def without_names(text: str, index: CmdbIndex) -> str:
    """`text` in NFKC with every CMDB name (institution, system, node) taken out."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])
    chars = list(text)
    for mention in _matcher(index).find(text):
        if mention.kind in _NAME_KINDS:
            chars[mention.start : mention.end] = " " * (mention.end - mention.start)
    return _SPACES.sub(" ", "".join(chars)).strip()


def language_of(text: str) -> str:
    """'ko' when the writer wrote Hangul, else 'en': the bot answers in the writer's language."""
    return "ko" if _HANGUL.search(text) else "en"
