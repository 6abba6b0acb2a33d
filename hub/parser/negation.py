"""Negation and prohibition: '재기동하지 마', 'don't restart' are no requests to restart.

An action word ('재기동', 'restart') is a request unless what stands next to it in its clause
says otherwise. Each action word found in a text gets one `Stance`:

- "negated": the text says not to do it, or not now. Korean puts the negation after the
  word ('재기동하지 마세요', '재기동하면 안 돼', '재기동 금지', '재기동할 필요 없어',
  '재기동 취소', '배포 보류', '재기동은 안 해도 돼', '재기동 말고', '재기동 없이'); English
  mostly before it ('don't restart', 'do not deploy', 'never roll back', 'no need to
  restart', 'cancel the restart', 'skip the deploy') and sometimes after ('restart is not
  needed', 'the deploy is cancelled').
- "symptom": the word names something that is not working, which is a report, not a request
  ('재기동이 안 돼요', '재기동 안 되고 있어요', '배포 실패', 'the restart failed', 'it won't
  restart', 'I can't restart it'). A Korean operator who writes '재기동 안 되고 있어요' means
  "the restart is not working", not "do not restart": the verb is 되다 (to work, to happen),
  with no conditional before it. '재기동하면 안 돼' (하다 + -면 안 되다, "must not") is the
  prohibition. A bare '재기동 안 돼' could be either; both readings are non-changes, and it
  is read as the prohibition.
- "request": anything else ('재기동해 주세요', 'restart the WAS').

The rules the parser builds on these (builtin.py, llm.py):
1. A text in which a change word (restart, deploy, roll back) is negated, or which holds a
  prohibition or an exclusion anywhere (`prohibition_in`: '지 마', '면 안 돼', '금지',
  '취소', '말고', 'don't', 'never', 'cancel', 'except', ...), is never a change plan
  (RESTART, DEPLOY, ROLLBACK), whatever the rest says: "don't restart, deploy", "로그는 보지
  말고 재기동" and "WAS 말고 웹서버 재기동" are refused too, because where a negation's
  reach ends is a guess, and a wrong guess runs a change. The operator rephrases; nothing
  runs. A negated read-only word ('not healthy') only stops being a request itself.
2. What is left: a read-only request in the same text ('재기동하지 말고 상태만 봐줘' is a
  STATUS plan); else a symptom becomes a STATUS check (the reasonable first answer to "it
  won't come up"); else UNKNOWN, with a question saying nothing will run.
3. The LLM path: when a negated change word or `prohibition_in` fires on the text, a
  change plan from the LLM is refused and the built-in parser's answer is used.

A task id to cancel ('취소 T1234...') never reaches the parser: the pipeline takes it first.
Each action word is read within its own clause: its windows stop at punctuation, at words
that start a clause ('그리고', 'but') and at the next action word. Rule 1 makes that
matter only for which read-only request is left ('재기동하지 말고 상태 봐줘': the
negation belongs to 재기동, not to 상태). Patterns are matched on the NFKC text with file
names blanked out; Korean ones allow any spacing.
"""

from __future__ import annotations

import re
from typing import Literal

Stance = Literal["request", "negated", "symptom"]

#: where a clause ends: punctuation and the words that start a new one
_CLAUSE_END = re.compile(
    r"[.,;!?\n。]|\b(?:but|then|however|and then)\b|그리고|그런데|근데|하지만|그\s*다음",
    re.IGNORECASE,
)
#: how far from the action word a negation may stand, in characters
_AFTER_CHARS = 30
_BEFORE_CHARS = 40

_APOSTROPHE = r"['’]?"
_NT = rf"n{_APOSTROPHE}t"

# fmt: off
#: after the action word, in its clause: it is not to be done
NEGATED_AFTER: tuple[str, ...] = (
    r"지\s*(?:마(?![감켓])|말)",                 # 하지 마(세요), 하지 말고, 하지 말아 주세요
    r"면\s*안\s*(?:돼|되|됩)",                    # 하면 안 돼, 하시면 안 됩니다
    r"^\s*(?:은|는)?\s*안\s*(?:돼|됩니다)\s*[!~.]*\s*$",  # bare '재기동 안 돼': the prohibition
    r"필요\s*(?:가|는|도)?\s*없",                 # 할 필요 없어, 필요는 없고
    r"안\s*(?:해|하|할|함|합)",                    # 안 해도 돼, 안 할게요, 안 합니다
    r"(?<![되돼])지\s*않",                        # 하지 않아도 (되지 않아 is a symptom)
    r"않아도|않으셔도",
    r"금지|불가|취소|보류|중지|중단|그만|멈춰|스톱|스킵|생략|제외|빼고|말고|말아|없이|노노|ㄴㄴ",
    r"나중에|다음\s*에\s*(?:해|하)",               # not now
    r"\b(?:is|are)?\s*(?:not|no\s+longer)\s+(?:needed|necessary|required|wanted|allowed)\b",
    rf"\b(?:is|are){_NT}\s+(?:needed|necessary|required|wanted|allowed)\b",
    r"\b(?:cancell?ed|forbidden|prohibited|postponed|on\s+hold|called\s+off)\b",
    r"\b(?:can\s+wait|not\s+now|later)\b",
)
#: before the action word, anywhere in its clause: don't do it
NEGATED_BEFORE: tuple[str, ...] = (
    rf"\b(?:do{_NT}|dont|do\s+not|never|no\s+need|need{_NT}|not\s+necessary|should{_NT}"
    rf"|should\s+not|must\s+not|must{_NT}|refrain\s+from|avoid|cancel|abort|skip|postpone"
    r"|stop|halt|hold\s+off|call\s+off|put\s+off)\b",
    r"절대|굳이",
    # right before it, with at most some of these between: 'stop the pending restart'
    r"\b(?:hold|without|no|not)"
    r"(?:\s+(?:the|a|an|any|that|this|my|our|your|all|pending|planned|scheduled|queued"
    r"|ongoing|current|running|to|on|with|doing|any\s+more))*\s*$",
)
#: after the action word: it is not working
SYMPTOM_AFTER: tuple[str, ...] = (
    r"안\s*(?:되|돼|됐|됨|됩)",                    # 안 돼요, 안 되고 있어요, 안 됐어요
    r"되\s*지\s*않|실패|에러|오류|먹통|멈췄|멈춤|느려|응답\s*(?:이|가)?\s*없",
    # 'the restart failed', not 'restart the failed node' nor 'the node that failed'
    r"(?:^|\s)(?<!\bthe\s)(?<!\ba\s)(?<!\ban\s)(?<!\bthat\s)(?<!\bwhich\s)"
    r"(?:(?:has|have|is|was|keeps?)\s+)?(?:failed|failing|fails|stuck|hanging|hung|broken"
    r"|erroring|timed\s+out|timing\s+out)\b",
    rf"\b(?:is\s+not|is{_NT}|does\s+not|does{_NT}|did\s+not|did{_NT}|wo{_NT}|will\s+not|not)"
    r"\s+(?:work|working|complete|completing|finish|finishing|go|going|happen|happening"
    r"|succeed)\b",
    r"^\W*(?:error|errors|failure)\b",
)
#: before the action word, right before it: it cannot be done ('it won't restart')
SYMPTOM_BEFORE: tuple[str, ...] = (
    rf"\b(?:does{_NT}|does\s+not|did{_NT}|did\s+not|wo{_NT}|will\s+not|ca{_NT}|cannot"
    rf"|could{_NT}|could\s+not|failed\s+to|fails\s+to|unable\s+to)(?:\s+\w+)?\s*$",
)
#: anywhere in a text: it forbids, cancels or leaves out something, whatever the action word
#: ('WAS 말고 웹서버 재기동': what is left out is not read, so the whole is refused)
PROHIBITIONS: tuple[str, ...] = (
    r"지\s*(?:마(?![감켓])|말)", r"면\s*안\s*(?:돼|되|됩)", r"필요\s*(?:가|는|도)?\s*없",
    r"말아\s*(?:줘|주|요)", r"금지", r"취소", r"보류", r"말고|빼고|제외", r"안\s*해도|않아도",
    rf"\b(?:do{_NT}|dont|do\s+not|never|no\s+need|need{_NT}|must\s+not|must{_NT}"
    rf"|should\s+not|should{_NT}|cancel|cancell?ed|abort|postpone|hold\s+off|call\s+off"
    r"|on\s+hold|except|other\s+than|but\s+not)\b",
    r"\b(?:not|no\s+longer)\s+(?:needed|necessary|required)\b",
)
# fmt: on


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_NEGATED_AFTER = _compile(NEGATED_AFTER)
_NEGATED_BEFORE = _compile(NEGATED_BEFORE)
_SYMPTOM_AFTER = _compile(SYMPTOM_AFTER)
_SYMPTOM_BEFORE = _compile(SYMPTOM_BEFORE)
_PROHIBITIONS = _compile(PROHIBITIONS)


def _after(text: str, end: int, limit: int) -> str:
    window = text[end : min(limit, end + _AFTER_CHARS)]
    stop = _CLAUSE_END.search(window)
    return window[: stop.start()] if stop else window


def _before(text: str, start: int, limit: int) -> str:
    window = text[max(limit, start - _BEFORE_CHARS) : start]
    stops = list(_CLAUSE_END.finditer(window))
    return window[stops[-1].end() :] if stops else window


def stance(text: str, start: int, end: int, *, previous: int = 0, following: int = -1) -> Stance:
    """How the action word at text[start:end] is meant.

    `previous` and `following` bound its windows: the end of the action word before it and
    the start of the one after it (-1: none), so that each word reads only its own clause.
    """
    after = _after(text, end, len(text) if following < 0 else following)
    before = _before(text, start, previous)
    if _NEGATED_AFTER.search(after) or _NEGATED_BEFORE.search(before):
        return "negated"
    if _SYMPTOM_AFTER.search(after) or _SYMPTOM_BEFORE.search(before):
        return "symptom"
    return "request"


def prohibition_in(text: str) -> bool:
    """Whether the text forbids or cancels something anywhere, whatever the action word."""
    return _PROHIBITIONS.search(text) is not None
