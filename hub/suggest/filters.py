"""What is never a suggestion, whatever its words: one table of reasons and patterns.

Checked before anything is embedded (it is cheap and it is final):
- `addressed`: text to the bot ('@guardia ...', '@bot ...') is a command; the parser has it.
- `resolved`: the symptom is said to be over or absent ('이제 괜찮아요', '여유 있어요',
  'no errors now', 'back up').
- `planned`: work announced for later ('다음 주 디스크 증설 예정', 'tomorrow we replace ...').
- `topic`: a document, meeting or policy about a subject ('설계서 공유드립니다', '정책 회의').
- `question`: a question about people, places or times ('담당자 누구죠?'), or how to handle
  or why a symptom happens in general ('디스크 풀 나면 어떻게 대응하나요?'); not a question
  about a symptom now ('DB 왜 이렇게 느리죠?' is still a symptom).
Matched like the rules: NFKC, lower case, CMDB names taken out. Generic words only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

Reason = Literal["addressed", "resolved", "planned", "topic", "question"]

# ASCII word boundaries, as in rules.py: a Korean particle may follow an English word
_FLAGS = re.IGNORECASE | re.ASCII

ADDRESS = re.compile(r"^\s*@(?:guardia|bot)\b", _FLAGS)

_FUTURE = (
    r"(?:내일|모레|다음\s*(?:주|달|번)|이번\s*(?:주말|주|달)|주말에|오늘\s*(?:밤|저녁|야간)|야간에|"
    r"\btomorrow\b|\bnext (?:week|month|time)\b|\btonight\b|\bthis weekend\b|"
    r"\bon (?:mon|tues|wednes|thurs|fri|satur|sun)day\b)"
)
_WORK = (
    r"(?:교체|증설|작업|점검|패치|업그레이드|이관|재기동|재시작|배포|정리|설치|변경|마이그레이션|"
    r"replac|upgrad|patch|migrat|maintenance|restart|deploy|install|review|expand|clean)"
)

# fmt: off
_PATTERNS: Mapping[Reason, tuple[str, ...]] = MappingProxyType({
    "resolved": (
        r"(?:이제|다시|지금은|현재는).{0,12}(?:괜찮|정상|잘\s*(?:돼|되|됩|돌아|나와|열려))",
        r"괜찮아(?:요|졌|진|짐)|괜찮습니다|괜찮네",
        r"해결\s*(?:됐|되었|했|완료|됨|돼)",
        r"정상\s*(?:으로|화|입니다|이에요|이네요|이야|이다|범위)",
        r"정상\s*적으로\s*(?:잘\s*)?(?:돼|되|됩|동작|작동|처리|돌아|나와|열려|접속)",
        r"정상\s*(?:동작|작동|운영)\s*(?:합|해|중|하고|됩|되고)",
        r"복구\s*(?:됐|되었|완료|됨|했|돼)|돌아왔|돌아옴",
        r"여유\s*(?:가\s*|는\s*)?(?:있|많|충분|생겼)|여유롭",
        r"(?:이상|문제|에러|오류|장애|이슈|특이\s*사항)\s*(?:이|가|은|는)?\s*(?:없|無)",
        r"풀렸|풀림|끝났|끝남|(?:정리|점검|조치|복구|해결|작업|확보)\s*(?:이\s*|가\s*)?(?:완료|끝|했)",
        r"빨라졌|빨라짐|나아졌|나아짐|좋아졌|살아났",
        r"(?:었|았|였|났|찼|됐|했)던\s*(?:게|거|건|일|적)",  # a symptom that was: '찼던 게'
        r"(?:kill|킬)\s*(?:했|함|완료)|\bkilled\b",  # the blocking session is gone
        r"\bno (?:more |new )?(?:errors?|exceptions?|timeouts?|locks?|issues?|problems?|alarms?)\b",
        r"\bback (?:up|online|to normal)\b|\bresolved\b|\bfixed\b",
        r"\brecovered\b|\b(?:working|works|running|fast) (?:again|fine|normally)\b|\ball good\b",
        r"\blooks? (?:fine|good|normal|ok)\b|\bplenty of (?:space|room)\b|\bis fine\b",
    ),
    "planned": (
        r"예정|계획(?:입니다|이에요|이야|중|대로|했)|할\s*거예요|\bscheduled\b|\bplanned\b|"
        r"\bplan to\b",
        rf"{_FUTURE}.{{0,30}}{_WORK}",
        rf"{_WORK}.{{0,30}}{_FUTURE}",
        r"작업\s*공지|작업\s*안내",
    ),
    "topic": (
        r"설계서|명세서|계획서|보고서|요청서|신청서|품의서?|기안|매뉴얼|가이드\s*문서|문서\s*(?:공유|올려|업데이트)",
        r"회의(?:합|해|하|를|는|에서|록|\s*(?:자료|일정|시간|때))|미팅(?:합|해|하|을|은|에서|\s*일정)",
        r"교육(?:\s*자료|\s*일정|을|은|합|해|받)|세미나|워크숍|정책|스터디",
        r"(?:공유|첨부)\s*(?:드립|드려|합니|했|해\s*드|해\s*주|부탁)|자료\s*(?:공유|올려|드립|보내|첨부)",
        r"\bdocument(?:ation)?\b|\bspec(?:ification)?s?\b|\bslides\b|\bdeck\b|\brunbook\b|"
        r"\bplaybook\b|\bwiki\b|\bpolic(?:y|ies)\b|\bmeeting\b|\bagenda\b|\bworkshop\b|"
        r"\btraining\b|(?:let'?s|please|code) review\b",
    ),
    "question": (
        r"누구|담당자|담당\s*부서|연락처|전화\s*번호|어디(?:죠|예요|에요|인가요|야|에\s*있)",
        r"언제(?:인가요|예요|에요|죠|야|하나요|해요|할까요)|몇\s*시(?!간)",
        r"^\s*(?:who|when|where)\b|\bwho (?:is|owns|handles)\b|\bcontact (?:person|info|point)",
        # how-to and why questions about a symptom in general, not one happening now
        r"(?:(?:하|나|되|걸리|생기|차|터지|뜨|오|있|없|났|찼|죽|멈추)면|때|경우에?는?)\s*(?:보통\s*)?"
        r"(?:어떻게|뭘|무엇을|누구)",
        r"어떻게\s*(?:대응|해결|처리|조치|확인)\s*(?:하나요|해야|하죠|하면|하는|할까)",
        r"(?:원인|이유)(?:이|가|는)?\s*(?:뭐|무엇|뭘까)|왜\s*(?:나|생기|발생)(?:나요|요|죠|는)",
        r"\bhow (?:do|should|can|would|to) (?:we |i |you )?(?:handle|fix|deal|avoid|prevent|"
        r"check|debug|monitor)|\bwhat (?:causes|should we do|do we do)\b|\bwhy do(?:es)?\b|"
        r"\bwhat if\b",
    ),
})
# fmt: on

FILTERS: tuple[tuple[Reason, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, _FLAGS))
    for reason, patterns in _PATTERNS.items()
    for pattern in patterns
)


def addressed_to_bot(text: str) -> bool:
    """Whether the raw text is a command to the bot (that is the parser's, not ours)."""
    return ADDRESS.match(text) is not None


#: a 'resolved' phrase next to these says the opposite ('안 풀렸어요', '정상으로 안 돌아와요')
_NEGATED_BEFORE = re.compile(r"(?:안|못)\s*$|\bnot\s*$", _FLAGS)
_NEGATED_AFTER = re.compile(r"^\s*(?:안|못|않|아직)|^.{0,8}(?:않|\bnot\b|n't\b)", _FLAGS)


def _negated(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 5) : match.start()]
    after = text[match.end() : match.end() + 10]
    return bool(_NEGATED_BEFORE.search(before) or _NEGATED_AFTER.search(after))


def veto(text: str) -> Reason | None:
    """Why a (normalized, masked) text is no suggestion, or None when it may be one."""
    if addressed_to_bot(text):
        return "addressed"
    for reason, pattern in FILTERS:
        for match in pattern.finditer(text):
            if reason != "resolved" or not _negated(text, match):
                return reason
    return None
