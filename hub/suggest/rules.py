"""The keyword layer: regular expressions per symptom kind, in one table, Korean and English.

Each rule is a phrase that says a symptom ('락 대기', 'no space left', '502', 'stack trace'),
not merely an area word ('DB', '디스크', '에러'): a suggestion needs a rule to have heard its
kind (detector.py), so the rules set the bot's reach and the semantic layer judges within
it (small talk that happens to hold a symptom phrase, a dismissed line, which of two kinds
heard). A heard kind also gets a bonus over the others. The semantic layer alone is not
trusted to speak: e5 puts '메모리 사용률이 95%예요' near '파일시스템 사용률이 98%예요'. Texts are
matched after NFKC, in lower case, with CMDB names taken out (a system called
'로그관리시스템' says nothing about logs). Generic ops language only: no names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hub.suggest.kinds import KIND_NAMES, Kind

# ASCII word boundaries: in Unicode mode Hangul is a word character, so r'\bdb\b' would miss
# 'DB가', where a particle follows the word without a space
_FLAGS = re.IGNORECASE | re.ASCII

# Word groups the rules share. '락' is a lock unless it ends another word ('연락', '하락').
_DB = (
    r"(?:\bdb\b|디비|데이터\s*베이스|database|\bdbms\b|mysql|mariadb|oracle|오라클|postgres\w*|"
    r"포스트그레|mssql|tibero|티베로|트랜잭션|transactions?\b)"
)
_LOCK = r"(?:(?<![연하추단오허쾌])락|잠금|\blocks?\b|\blocked\b|\blocking\b)"
_SLOW = (
    r"(?:느리|느려|느립|느린|느림|지연|멈춰|멈췄|멈춤|버벅|안\s*끝|한참|오래\s*걸|타임\s*아웃|"
    r"timeout|timing out|timed out|time out|\bhang|\bhung\b|stuck|\bslow|sluggish|crawl|\blag|"
    r"거북|굼뜨|굼떠|시원찮|이상해|이상하|acting (?:up|weird|strange)|weird|"
    r"unresponsive|never finish|take forever|taking forever|응답.{0,4}(?:없|느|안))"
)
_DISK = (
    r"(?:디스크|\bdisks?\b|용량|파티션|partitions?\b|file\s*systems?|파일\s*시스템|볼륨|"
    r"\bvolumes?\b|storage|스토리지|저장\s*공간|inodes?|아이노드|\bmount|/[a-z]+\b)"
)
_FULL = (
    r"(?:부족|꽉|가득|풀\s*났|\bfull\b|찼|차\s*버|없어|없습|없대|없다|초과|모자|넘었|넘어|임계|"
    r"threshold|running out|ran out|almost out|nearly full|filled up|filling up|안\s*남|바닥|"
    r"(?:9\d|100)\s*(?:%|퍼|percent))"
)
_LOG = r"(?:로그(?!인|아웃)|\blogs?\b|catalina|stderr|syslog|journal)"
_ERROR = (
    r"(?:에러|error|exception|오류|예외|fatal|panic|traceback|stack\s*traces?|"
    r"스택\s*트레이스)"
)
_DOWN = (
    r"(?:먹통|뻗었|뻗어|다운\s*(?:됐|되었|됨|돼|되어|상태)|죽었|죽은|죽어|"
    r"안\s*(?:열려|열리|열립|뜨|떠|뜹)|(?:열리지|뜨지)\s*않)"
)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: Kind
    pattern: re.Pattern[str]


def _rules(kind: Kind, *patterns: str) -> list[Rule]:
    return [Rule(kind, re.compile(p, _FLAGS)) for p in patterns]


# fmt: off
RULES: tuple[Rule, ...] = (
    *_rules("db_delay",
        rf"{_LOCK}\s*(?:대기|걸|잡혀|경합|wait|contention|timeout)",
        rf"waiting (?:on|for) (?:a |the )?{_LOCK}",
        r"데드\s*락|deadlock|블로킹|블락킹",
        r"blocking (?:sessions?|quer|transactions?|updates?|inserts?|writes?)",
        rf"(?:쿼리|슬로우\s*쿼리|sql|quer(?:y|ies)|transactions?|트랜잭션|커밋).{{0,14}}{_SLOW}",
        rf"{_DB}.{{0,20}}{_SLOW}",
        rf"(?:slow|sluggish|hanging|stuck|long[- ]running|blocked)\s+(?:{_DB}|quer|sql)",
        r"커넥션\s*풀|connection\s*pool|(?:db|database|디비)\s*(?:connections?|커넥션|연결)",
        r"(?:커넥션|connections?\b).{0,12}(?:안\s*돌아|반환|고갈|부족|초과|exhaust|leak|maxed)",
        r"(?:쿼리|quer(?:y|ies)|세션|sessions?\b).{0,12}"
        r"(?:대기|밀려|밀리|쌓여|쌓이|piling|queued|waiting)",
        r"\b(?:select|update|insert|delete)\b.{0,25}"
        r"(?:\d+\s*(?:초|분|seconds?|secs?|minutes?|mins?)(?![a-z])|오래|한참|느리|느려|hang|stuck|slow)",
    ),
    *_rules("disk_full",
        rf"{_DISK}.{{0,15}}{_FULL}",
        r"no (?:space|room) left|out of (?:disk )?space|disk quota|공간이?\s*(?:없|부족|모자)",
        r"\bdf\b.{0,20}\d{2,3}\s*(?:%|퍼)",
        r"(?:디스크|disk|용량|storage|스토리지).{0,10}(?:alarm|alert|알람|경보|경고|알림)",
        rf"{_LOG}.{{0,10}}(?:쌓여|쌓였|쌓이|piling up|filled|filling)",
    ),
    *_rules("service_down",
        r"\b5(?:0[0234]|2\d)\b(?!\s*(?:%|초|분|건|개|명|원|gb|mb|ms))",
        r"bad gateway|gateway time-?out|service (?:is )?unavailable|internal server error",
        r"접속.{0,8}(?:안\s*(?:돼|되|됩|됨|된)|불가|장애|끊|실패|못)",
        r"(?:흰|하얀|빈)\s*화면|화면.{0,10}(?:안\s*(?:떠|뜨|뜹|나와|열)|하얗|멈)",
        r"응답.{0,4}(?:없|안\s*(?:해|함|와|옴|합|하))",
        _DOWN,
        r"로그인.{0,6}(?:안\s*(?:돼|되|됩|된)|불가|실패|못)",
        r"not responding|unresponsive|unreachable|\b(?:is|are|went|goes|gone)\s+down\b",
        r"connection (?:refused|reset|timed out)|(?:can'?t|cannot|unable to) "
        r"(?:connect|reach|access|log ?in|open)",
        r"(?:not|won'?t|doesn'?t|does not|will not) (?:load|open)|blank page",
        r"health\s*-?check.{0,10}(?:fail|실패)|헬스\s*체크.{0,6}실패",
        r"들어가지지\s*(?:가\s*)?않|안\s*들어가져|접속(?:이\s*)?되지\s*않",
        r"(?:site|page|app|service|server)s?\b.{0,15}"
        r"(?:broken|not working|doesn'?t work|isn'?t working|stopped working)",
    ),
    *_rules("log_errors",
        rf"{_LOG}.{{0,20}}{_ERROR}",
        rf"{_ERROR}.{{0,20}}{_LOG}",
        r"[a-z]{3,}(?:exception|error)s?\b",
        r"\bexceptions\b|stack\s*traces?|traceback|스택\s*트레이스",
        rf"{_ERROR}.{{0,12}}(?:계속|반복|쏟아|잔뜩|폭주|급증|flood|spik|keep|repeat|over and over)",
        rf"{_LOG}.{{0,15}}(?:도배|빨간\s*줄|폭주|flood)",
    ),
)
# fmt: on

BY_KIND: Mapping[Kind, tuple[Rule, ...]] = MappingProxyType(
    {kind: tuple(rule for rule in RULES if rule.kind == kind) for kind in KIND_NAMES}
)


def heard(text: str) -> frozenset[Kind]:
    """The kinds some rule hears in the (normalized, masked) text."""
    return frozenset(
        kind for kind, rules in BY_KIND.items() if any(rule.pattern.search(text) for rule in rules)
    )
