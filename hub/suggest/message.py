"""What the bot says about a suggestion, rendered from (kind, plan, language) alone.

Detection never builds text: this module does, in Korean or English, from the plan's codes
and the CMDB's names (which keep their language). A plan that names its system offers the
diagnostic on it ('급여시스템(PAY) DB 대기 쿼리를 조회할까요?'); one that does not asks
which system, listing the candidates; one that needs another answer (a system with no DB
for a lock check) says the plan's own question.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from cmdb.index import CmdbIndex
from hub.parser.grounding import system_label
from hub.parser.plan import UNKNOWN, Plan
from hub.suggest.kinds import Kind

if TYPE_CHECKING:
    from hub.suggest.detector import Suggestion

# (Korean, English) per kind: what was noticed, and the offer with {target} to fill in
SYMPTOMS: Mapping[Kind, tuple[str, str]] = MappingProxyType(
    {
        "db_delay": ("DB 지연 징후가 감지되었습니다.", "Signs of DB delay."),
        "disk_full": ("디스크 용량 부족 징후가 감지되었습니다.", "Signs of a disk running full."),
        "service_down": ("서비스 장애 징후가 감지되었습니다.", "Signs of a service outage."),
        "log_errors": ("로그 에러 증가 징후가 감지되었습니다.", "Signs of errors in the logs."),
    }
)
OFFERS: Mapping[Kind, tuple[str, str]] = MappingProxyType(
    {
        "db_delay": (
            "{target} DB 대기 쿼리를 조회할까요?",
            "Check the waiting queries on {target}?",
        ),
        "disk_full": ("{target} 디스크 사용량을 확인할까요?", "Check disk space on {target}?"),
        "service_down": ("{target} 상태를 점검할까요?", "Check the health of {target}?"),
        "log_errors": ("{target} 로그를 조회할까요?", "Tail the logs of {target}?"),
    }
)
#: how a target reads when the system is not known yet
_WHICH = ("어느 시스템의", "which system")
_MAX_CHOICES = 8


def _servers(plan: Plan, korean: bool) -> str:
    count = len(plan.target_nodes)
    layer = plan.infrastructure_layer
    if korean:
        return f"{layer} 서버 {count}대" if layer else f"서버 {count}대"
    noun = "server" if count == 1 else "servers"
    return f"{count} {layer} {noun}" if layer else f"{count} {noun}"


def _target(kind: Kind, plan: Plan, korean: bool, index: CmdbIndex) -> str:
    entry = index.system(plan.system_name)
    label = system_label(entry) if entry else plan.system_name
    if kind == "db_delay":
        return label if korean else f"the DB of {label}"
    servers = _servers(plan, korean)
    return f"{label} {servers}의" if korean else f"{label} ({servers})"


def _choice_labels(choices: tuple[str, ...], index: CmdbIndex) -> str:
    labels = [system_label(e) for code in choices if (e := index.system(code))]
    return ", ".join(labels[:_MAX_CHOICES]) + (", ..." if len(labels) > _MAX_CHOICES else "")


def render(
    kind: Kind, plan: Plan, lang: str, index: CmdbIndex, choices: tuple[str, ...] = ()
) -> str:
    """The bot's line for a suggestion of `kind` with `plan`, in `lang` ('ko' or 'en')."""
    korean = lang == "ko"
    pick = 0 if korean else 1
    symptom = SYMPTOMS[kind][pick]
    if plan.system_name == UNKNOWN:
        offer = OFFERS[kind][pick].format(target=_WHICH[pick])
        listed = _choice_labels(choices, index)
        return f"{symptom} {offer} {listed}".strip()
    if plan.needs_clarification and plan.question:
        return f"{symptom} {plan.question}"
    return f"{symptom} {OFFERS[kind][pick].format(target=_target(kind, plan, korean, index))}"


def render_message(suggestion: Suggestion, lang: str, index: CmdbIndex) -> str:
    """`render` for a detected suggestion (the lead's entry point)."""
    return render(suggestion.kind, suggestion.plan, lang, index, suggestion.choices)
