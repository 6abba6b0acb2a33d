"""The keyword layer: regular expressions per symptom kind, in one table, Korean and English.

A rule is `strong` when its words alone describe the symptom ('락 대기', 'no space left',
'502', 'stack trace'), `weak` when they only point at the area ('DB', '디스크', '에러'). Rules
do not decide: they add a bonus to their kind's semantic score (detector.py), so a weak word
in small talk stays quiet and a symptom in words no exemplar has is still heard. Texts are
matched after NFKC, in lower case, with CMDB names taken out (a system called
'로그관리시스템' says nothing about logs). Generic ops language only: no names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hub.suggest.kinds import KIND_NAMES, Kind

# ASCII word boundaries: in Unicode mode Hangul is a word character, so '\\bdb\\b' would miss
# 'DB가', where a particle follows the word without a space
_FLAGS = re.IGNORECASE | re.ASCII

#: what a rule adds to its kind: a strong rule alone can carry a symptom, a weak one cannot
STRONG = 1.0
WEAK = 0.35

# Word groups the rules share. '락' is a lock unless it ends another word ('연락', '하락').
_DB = (
    r"(?:\bdb\b|디비|데이터\s*베이스|database|\bdbms\b|mysql|mariadb|oracle|오라클|postgres\w*|"
    r"포스트그레|mssql|tibero|티베로|트랜잭션|transactions?\b)"
)
_LOCK = r"(?:(?<![연하추단오허쾌])락|잠금|\blocks?\b|\blocked\b|\blocking\b)"
_SLOW = (
    r"(?:느리|느려|느립|느린|느림|지연|멈춰|멈췄|멈춤|버벅|안\s*끝|한참|오래\s*걸|타임\s*아웃|"
    r"timeout|timing out|timed out|time out|\bhang|\bhung\b|stuck|\bslow|sluggish|crawl|\blag|"
    r"unresponsive|never finish|take forever|taking forever|응답.{0,4}(?:없|느|안))"
)
_DISK = (
    r"(?:디스크|\bdisks?\b|용량|파티션|partitions?\b|file\s*systems?|파일\s*시스템|볼륨|"
    r"\bvolumes?\b|storage|스토리지|저장\s*공간|inodes?|아이노드|\bmount|/[a-z]+\b)"
)
_FULL = (
    r"(?:부족|꽉|가득|풀\s*났|\bfull\b|찼|차\s*버|없어|없습|없대|없다|초과|모자|넘었|넘어|임계|"
    r"threshold|running out|ran out|almost out|nearly full|filled up|filling up|"
    r"(?:9\d|100)\s*(?:%|퍼|percent))"
)
_LOG = r"(?:로그(?!인|아웃)|\blogs?\b|catalina|stderr|syslog|journal)"
_ERROR = (
    r"(?:에러|error|exception|오류|예외|fatal|panic|traceback|stack\s*traces?|"
    r"스택\s*트레이스)"
)
_DOWN = (
    r"(?:먹통|뻗었|뻗어|다운\s*(?:됐|되었|됨|돼|되어|상태)|죽었|죽은|죽어|"
    r"안\s*(?:열려|열리|열립|뜨|떠|뜹|돼|되|됩|됨|된)|(?:열리지|뜨지|되지)\s*않)"
)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: Kind
    weight: float
    pattern: re.Pattern[str]


def _rules(kind: Kind, weight: float, *patterns: str) -> list[Rule]:
    return [Rule(kind, weight, re.compile(p, _FLAGS)) for p in patterns]


# fmt: off
RULES: tuple[Rule, ...] = (
    *_rules("db_delay", STRONG,
        rf"{_LOCK}\s*(?:대기|걸|잡혀|경합|wait|contention|timeout)",
        rf"waiting (?:on|for) (?:a |the )?{_LOCK}",
        r"데드\s*락|deadlock|블로킹|블락킹",
        r"blocking (?:sessions?|quer|transactions?|updates?|inserts?|writes?)",
        rf"(?:쿼리|슬로우\s*쿼리|sql|quer(?:y|ies)|transactions?|트랜잭션|커밋).{{0,14}}{_SLOW}",
        rf"{_DB}.{{0,20}}{_SLOW}",
        rf"(?:slow|sluggish|hanging|stuck|long[- ]running|blocked)\s+(?:{_DB}|quer|sql)",
        r"커넥션\s*풀|connection\s*pool|(?:db|database|디비)\s*(?:connections?|커넥션|연결)",
        r"\b(?:select|update|insert|delete)\b.{0,25}"
        r"(?:\d+\s*(?:초|분|seconds?|secs?|minutes?|mins?)(?![a-z])|오래|한참|느리|느려|hang|stuck|slow)",
    ),
    *_rules("db_delay", WEAK, _DB, r"쿼리|\bquer(?:y|ies)\b|\bsql\b", _LOCK, r"느리|느려|\bslow"),
    *_rules("disk_full", STRONG,
        rf"{_DISK}.{{0,15}}{_FULL}",
        r"no (?:space|room) left|out of (?:disk )?space|disk quota|공간이?\s*(?:없|부족|모자)",
        r"(?:사용률|사용량|usage|used)\D{0,10}(?:9\d|100)\s*(?:%|퍼|percent)",
        r"\bdf\b.{0,20}\d{2,3}\s*(?:%|퍼)",
        rf"{_LOG}.{{0,10}}(?:쌓여|쌓였|쌓이|piling up|filled|filling)",
    ),
    *_rules("disk_full", WEAK, _DISK, r"공간|\bspace\b|쌓여|쌓였|\bdf\b"),
    *_rules("service_down", STRONG,
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
    ),
    *_rules("service_down", WEAK, r"접속|응답|\bdown\b|장애|안\s*(?:돼|되|됩|된)"),
    *_rules("log_errors", STRONG,
        rf"{_LOG}.{{0,20}}{_ERROR}",
        rf"{_ERROR}.{{0,20}}{_LOG}",
        r"[a-z]{3,}(?:exception|error)s?\b",
        r"\bexceptions\b|stack\s*traces?|traceback|스택\s*트레이스",
        rf"{_ERROR}.{{0,12}}(?:계속|반복|쏟아|잔뜩|폭주|급증|flood|spik|keep|repeat|over and over)",
    ),
    *_rules("log_errors", WEAK, _ERROR, _LOG),
)
# fmt: on

BY_KIND: Mapping[Kind, tuple[Rule, ...]] = MappingProxyType(
    {kind: tuple(rule for rule in RULES if rule.kind == kind) for kind in KIND_NAMES}
)


def rule_scores(text: str) -> dict[Kind, float]:
    """Per kind, the weight of the strongest rule the (normalized, masked) text matches.

    Once a text says a symptom outright, the area words of other kinds are incidental
    ('503 에러' is a service error, not a log one): weak matches then count for nothing.
    """
    scores: dict[Kind, float] = {}
    for kind, rules in BY_KIND.items():
        best = 0.0
        for rule in rules:
            if rule.weight > best and rule.pattern.search(text):
                best = rule.weight
                if best >= STRONG:
                    break
        scores[kind] = best
    if any(score >= STRONG for score in scores.values()):
        scores = {kind: score if score >= STRONG else 0.0 for kind, score in scores.items()}
    return scores
