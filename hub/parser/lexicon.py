"""Language tables of the built-in parser: Korean and English words, generic only.

Nothing here names a customer, an institution, a system or a node: those come from the CMDB
the parser is given. Words are matched case-insensitively and without regard to spacing
('껐다 켜' also matches '껐다켜'), the longest match winning, so a longer entry here (or a CMDB
name) shadows a shorter one inside it: that is what IGNORED_WORDS are for ('로그인' is not
'로그').
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cmdb.document import Env
from hub.parser.plan import Intent, Layer

# fmt: off
INTENT_WORDS: Mapping[Intent, tuple[str, ...]] = MappingProxyType({
    "RESTART": (
        "재기동", "재시작", "리스타트", "재구동", "재가동", "재실행", "다시 시작", "다시 띄워",
        "껐다 켜", "껐다가 켜", "껏다 켜", "끄고 켜", "내렸다 올려", "내렸다가 올려",
        "내리고 올려", "restart", "restarts", "restarting", "bounce",
    ),
    "DEPLOY": (
        "배포", "반영", "디플로이", "deploy", "deploys", "deploying", "deployment", "roll out",
        "rollout",
    ),
    "ROLLBACK": (
        "롤백", "원복", "이전 버전", "예전 버전", "되돌려", "되돌리", "rollback", "roll back",
        "revert", "previous version",
    ),
    "STATUS": (
        "상태", "살아있", "살아 있", "살았", "죽었", "정상", "헬스체크", "헬스 체크", "헬스",
        "점검", "떠있", "떠 있", "status", "health", "healthy", "healthcheck", "alive",
        "up and running",
    ),
    "DISK_CHECK": (
        "디스크", "용량", "꽉 찼", "가득 찼", "남은 공간", "파일시스템", "스토리지", "disk",
        "disks", "disk space", "free space", "storage", "filesystem", "df",
    ),
    "DB_LOCK_CHECK": (
        "락", "잠금", "잠김", "잠겨", "대기 쿼리", "대기 세션", "블로킹", "블락킹", "데드락",
        "lock", "locks", "locked", "locking", "blocking", "blocked", "deadlock", "deadlocks",
        "waiting queries",
    ),
    "LOG_TAIL": ("로그", "log", "logs", "tail"),
})

#: when a text says several intents, the first of these wins ('로그가 쌓였는데 디스크 확인')
INTENT_PRIORITY: tuple[Intent, ...] = (
    "ROLLBACK", "DEPLOY", "RESTART", "DB_LOCK_CHECK", "DISK_CHECK", "LOG_TAIL", "STATUS",
)

#: words that contain an intent word but mean something else
IGNORED_WORDS: tuple[str, ...] = (
    "로그인", "로그아웃", "블로그", "카탈로그", "프로그", "다이얼로그", "아날로그", "프롤로그",
    "에필로그", "연락", "허락", "오락", "하락", "단락", "추락", "헬스장", "login", "logout",
    "logon", "blog", "catalog",
)

#: words that say which environment a text or a name means (cmdb Env: prod, stage, dev)
ENV_WORDS: Mapping[Env, tuple[str, ...]] = MappingProxyType({
    "prod": (
        "운영계", "운영 환경", "운영", "실운영", "상용", "프로덕션", "prod", "production", "prd",
    ),
    "stage": (
        "검증계", "검증 환경", "검증", "스테이징", "스테이지", "테스트계", "테스트 환경", "품질계",
        "stage", "staging", "stg", "qa",
    ),
    "dev": ("개발계", "개발 환경", "개발", "개발서버", "dev", "development"),
})
#: words that hold an environment word but say no environment ('운영자', '검증해 줘')
ENV_IGNORED_WORDS: tuple[str, ...] = (
    "운영자", "운영팀", "운영체제", "운영 중", "운영하", "운영 시간", "검증해", "검증하",
    "검증된", "검증 결과", "개발자", "개발팀", "개발사", "개발 중",
)

LAYER_WORDS: Mapping[Layer, tuple[str, ...]] = MappingProxyType({
    "WAS": (
        "was", "와스", "앱서버", "ap 서버", "app 서버", "was 서버", "애플리케이션 서버",
        "어플리케이션 서버", "app server", "app servers", "application server",
        "application servers",
    ),
    "WEB": ("web", "웹", "웹서버", "web 서버", "web server", "web servers", "webservers"),
    "DB": (
        "db", "디비", "데이터베이스", "db 서버", "디비서버", "database", "databases",
        "db servers", "dbms",
    ),
})

#: layer words written straight before a node number: 'was02', 'web-1', 'db#2'
COMPACT_LAYER_WORDS: Mapping[str, Layer] = MappingProxyType(
    {"was": "WAS", "ap": "WAS", "app": "WAS", "web": "WEB", "db": "DB"}
)

#: the English verb 'was' next to these words is no layer ('what was the status')
WAS_VERB_BEFORE: frozenset[str] = frozenset({
    "everything", "he", "how", "i", "it", "nothing", "server", "service", "she", "something",
    "that", "there", "this", "what", "when", "where", "which", "who", "why",
})
WAS_VERB_AFTER: frozenset[str] = frozenset({
    "a", "broken", "deployed", "down", "fine", "it", "not", "ok", "restarted", "rolled",
    "running", "slow", "successful", "the", "there", "up", "working",
})

#: what follows a node number: '2번', '3호기', '2번째'
NUMBER_COUNTERS: tuple[str, ...] = ("번째", "번", "호기", "호")
#: what joins node numbers into a list: '1번이랑 2번', '1, 2번', '1~3번' (a range)
NUMBER_JOINERS: tuple[str, ...] = (
    "이랑", "랑", "하고", "과", "와", "및", "또는", "and", "or", "&", ",",
)
NUMBER_RANGES: tuple[str, ...] = ("~", "-", "to")
#: how many node numbers one list may hold ('1, 2, 3, ...')
MAX_LISTED_NUMBERS = 20
#: words before a bare node number: 'node 2', 'server #3'
NUMBER_NOUNS: tuple[str, ...] = ("node", "server", "instance", "host", "#", "no.")
#: what a number after a layer word is when it is a count, not a node ('WAS 2대')
COUNT_UNITS: tuple[str, ...] = ("대", "개", "분", "초", "시간", "일", "%", "gb", "mb", "tb")
NATIVE_ORDINALS: Mapping[str, int] = MappingProxyType(
    {"첫": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9}
)

#: endings a Korean noun carries in a sentence, stripped (longest first) from leftover words
PARTICLES: tuple[str, ...] = (
    "에서는", "에서", "으로", "에게", "한테", "이랑", "까지", "부터", "처럼", "만", "의", "은",
    "는", "이", "가", "을", "를", "에", "로", "랑", "도", "과", "와",
)
#: request endings and softeners, stripped from leftover words like particles ('인사시스템좀')
ENDINGS: tuple[str, ...] = (
    "부탁드립니다", "부탁드려요", "부탁해요", "부탁해", "해 주세요", "해 줘", "주세요", "해요",
    "좀",
)

#: a leftover Korean word with one of these endings names an institution the CMDB lacks
INSTITUTION_ENDINGS: tuple[str, ...] = (
    "부", "청", "처", "위원회", "공단", "공사", "재단", "병원", "대학교", "대학", "시청",
    "구청", "군청", "도청", "연구원", "진흥원", "정보원",
)
#: common words that end like an institution but are none
NOT_INSTITUTIONS: tuple[str, ...] = (
    "요청", "신청", "전부", "일부", "여부", "내부", "외부", "세부",
)
ENGLISH_INSTITUTION_WORDS: frozenset[str] = frozenset({
    "administration", "agency", "bureau", "commission", "county", "department", "hospital",
    "ministry", "municipality", "province", "university",
})
#: a leftover word with one of these endings names a system the CMDB lacks
SYSTEM_ENDINGS: tuple[str, ...] = ("시스템", "포털", "플랫폼")
ENGLISH_SYSTEM_WORDS: frozenset[str] = frozenset({"system", "portal", "platform"})
#: words before 'system' that do not name one ('the system', 'all systems')
NOT_SYSTEM_NAMES: frozenset[str] = frozenset({
    "a", "all", "an", "and", "at", "each", "entire", "every", "for", "in", "its", "my", "of",
    "on", "our", "that", "the", "this", "to", "whole", "your", "각", "그", "모든", "우리", "이",
    "저", "전체", "해당",
})

#: file name extensions of what gets deployed: a word ending in one is an artifact
ARTIFACT_EXTENSIONS: tuple[str, ...] = (
    "war", "jar", "ear", "zip", "tar.gz", "tar.bz2", "tar.xz", "tgz", "tar", "gz", "bz2", "xz",
    "7z", "rpm", "deb", "whl", "sql", "sh", "py", "js", "css", "html", "htm", "json", "xml",
    "yaml", "yml", "properties", "conf", "cfg", "ini", "class", "so", "bin", "img", "apk", "msi",
    "exe", "dll", "nupkg",
)
# fmt: on

#: how a question asks which servers an intent should act on, (Korean, English)
TARGET_QUESTIONS: Mapping[Intent, tuple[str, str]] = MappingProxyType(
    {
        "RESTART": ("어느 서버를 재기동할까요?", "Which servers should I restart?"),
        "DEPLOY": ("어느 서버에 배포할까요?", "Which servers should I deploy to?"),
        "ROLLBACK": ("어느 서버를 롤백할까요?", "Which servers should I roll back?"),
        "STATUS": ("어느 서버의 상태를 볼까요?", "Which servers should I check?"),
        "DISK_CHECK": ("어느 서버의 디스크를 볼까요?", "Which servers' disks should I check?"),
        "DB_LOCK_CHECK": ("어느 DB의 락을 볼까요?", "Which DB should I check for locks?"),
        "LOG_TAIL": ("어느 서버의 로그를 볼까요?", "Which servers' logs should I tail?"),
        "UNKNOWN": ("어느 서버인가요?", "Which servers?"),
    }
)

#: questions asked back, (Korean, English), by what is missing
QUESTIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "what_to_do": (
            "무엇을 할까요? 재기동, 배포, 롤백, 상태 확인, 디스크 확인, DB 락 조회, "
            "로그 조회를 할 수 있습니다.",
            "What should I do? I can restart, deploy, roll back, check status, disks or DB "
            "locks, and tail logs.",
        ),
        "which_system": (
            "{institution}의 어느 시스템인가요? {choices}",
            "Which system of {institution}? {choices}",
        ),
        "unknown_system": (
            "CMDB에서 {subject}을(를) 찾지 못했습니다. 어느 시스템인가요? {choices}",
            "I could not find {subject} in the CMDB. Which system do you mean? {choices}",
        ),
        "unknown_institution": (
            "CMDB에 '{subject}'이(가) 없습니다. 어느 기관의 어느 시스템인가요? {choices}",
            "'{subject}' is not in the CMDB. Which institution and system? {choices}",
        ),
        "conflict": (
            "{institution}에는 '{subject}' 시스템이 없습니다. 어느 시스템인가요? {choices}",
            "{institution} has no system '{subject}'. Which system do you mean? {choices}",
        ),
        "ambiguous_system": (
            "'{subject}'은(는) 여러 곳에 있습니다. 어느 것인가요? {choices}",
            "'{subject}' names several systems. Which one? {choices}",
        ),
        "several_systems": (
            "한 번에 한 시스템만 처리합니다. 어느 시스템인가요? {choices}",
            "I act on one system at a time. Which one? {choices}",
        ),
        "unknown_node": (
            "CMDB에 없는 서버입니다: {subject}. {system}의 서버: {choices}",
            "Not in the CMDB: {subject}. The servers of {system}: {choices}",
        ),
        "unknown_node_anywhere": (
            "CMDB에 없는 서버입니다: {subject}. 자산 코드나 시스템과 서버 종류를 알려 주세요.",
            "Not in the CMDB: {subject}. Which server do you mean (an asset code, or a system "
            "and a layer)?",
        ),
        "which_target": (
            "{system}: {action} {choices} (예: 'WAS', 'WAS 1번')",
            "{system}: {action} {choices} (e.g. 'WAS' or 'WAS 1')",
        ),
        "no_such_layer": (
            "{system}에는 {subject} 서버가 없습니다. 있는 서버: {choices}",
            "{system} has no {subject} servers. It has: {choices}",
        ),
        "no_such_number": (
            "{system}에는 {subject}번 서버가 없습니다. 있는 서버는 {choices}",
            "{system} has no {subject}. It has {choices}",
        ),
        "which_layer": (
            "{subject}번은 어느 서버의 번호인가요? {choices} (예: 'WAS 2번')",
            "Which layer is number {subject} in? {choices} (e.g. 'WAS 2')",
        ),
        "deploy_file": (
            "배포할 파일 이름을 알려 주세요 (예: app-1.2.3.war).",
            "Which file should I deploy? Name it (e.g. app-1.2.3.war).",
        ),
        "bad_file_name": (
            "배포할 수 없는 파일 이름입니다: {subject}. 영문자, 숫자, . _ + - 로 된 200자 "
            "이하의 이름이어야 합니다.",
            "I cannot deploy a file named {subject}: a file name is letters, digits and "
            ". _ + -, at most 200 characters.",
        ),
        "negated": (
            "하지 말라는 말씀으로 이해했습니다. 아무것도 실행하지 않습니다. 필요한 작업을 다시 "
            "말씀해 주세요.",
            "I read that as something not to do, so nothing will run. Tell me what you want done.",
        ),
        "which_env": (
            "'{subject}'은(는) 환경(운영계, 검증계, 개발계)이 여럿입니다. 어느 시스템인가요? "
            "{choices}",
            "'{subject}' has several environments (prod, staging, dev). Which system do you "
            "mean? {choices}",
        ),
        "partial_name": (
            "'{subject}'이라는 시스템은 없습니다. 이 시스템인가요? {choices}",
            "There is no system called '{subject}'. Do you mean {choices}?",
        ),
        "scope_env": (
            "이 방은 {subject}의 방인데 다른 환경을 말씀하셨습니다. 어느 시스템인가요? {choices}",
            "This room is for {subject}, but you named another environment. Which system do "
            "you mean? {choices}",
        ),
        "no_such_env": (
            "'{subject}'에 맞는 시스템을 CMDB에서 찾지 못했습니다. 어느 시스템인가요? {choices}",
            "I found no system in the CMDB for '{subject}'. Which one do you mean? {choices}",
        ),
    }
)
