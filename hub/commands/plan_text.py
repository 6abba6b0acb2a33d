"""Plans told to people, in their language."""

from __future__ import annotations

from collections.abc import Sequence

from cmdb.index import CmdbIndex, SystemEntry
from hub.i18n import pick
from hub.parser import Plan
from protocol import ArtifactInfo

_INTENT_KO = {
    "RESTART": "재기동",
    "DEPLOY": "배포",
    "ROLLBACK": "롤백",
    "STATUS": "상태 확인",
    "DISK_CHECK": "디스크 확인",
    "DB_LOCK_CHECK": "DB 락 조회",
    "LOG_TAIL": "로그 조회",
}
_INTENT_EN = {
    "RESTART": "restart",
    "DEPLOY": "deploy",
    "ROLLBACK": "roll back",
    "STATUS": "status check",
    "DISK_CHECK": "disk check",
    "DB_LOCK_CHECK": "DB lock check",
    "LOG_TAIL": "log tail",
}


def artifact_lines(artifacts: Sequence[ArtifactInfo], lang: str) -> str:
    """The exact files a deploy installs: name, size, sha256 and who uploaded them."""
    return "".join(
        pick(
            lang,
            f"\n파일: {a.filename} ({a.size:,} bytes, sha256 {a.sha256}, 업로드 {a.uploaded_by})",
            f"\nFile: {a.filename} ({a.size:,} bytes, sha256 {a.sha256}, uploaded by "
            f"{a.uploaded_by})",
        )
        for a in artifacts
    )


def describe_plan(
    plan: Plan,
    index: CmdbIndex,
    lang: str,
    task_id: str,
    artifacts: Sequence[ArtifactInfo] = (),
) -> str:
    system = index.system(plan.system_name)
    name = f"{system.name} ({plan.system_name})" if system else plan.system_name
    layer = f" {plan.infrastructure_layer}" if plan.infrastructure_layer else ""
    if plan.intent_type == "DB_LOCK_CHECK" and plan.infrastructure_layer == "DB":
        layer = ""  # not "DB DB 락 조회"
    nodes = ", ".join(plan.target_nodes)
    steps = " → ".join(plan.action_sequence)
    files = artifact_lines(artifacts, lang)
    if lang == "ko":
        text = f"[{task_id}] {name}{layer} {_INTENT_KO.get(plan.intent_type, plan.intent_type)}"
        text += f"\n대상 {len(plan.target_nodes)}대: {nodes}\n단계: {steps}"
        text += files
        text += (
            "\n운영(prod) 변경이라 다른 승인자의 승인이 필요합니다."
            if plan.requires_approval
            else "\n바로 실행합니다."
        )
        return text
    text = f"[{task_id}] {_INTENT_EN.get(plan.intent_type, plan.intent_type)} of {name}{layer}"
    text += f"\nTargets ({len(plan.target_nodes)}): {nodes}\nSteps: {steps}"
    text += files
    text += (
        "\nA production change: another approver must approve it."
        if plan.requires_approval
        else "\nRunning it now."
    )
    return text


def examples(systems: Sequence[SystemEntry], lang: str) -> str:
    """Example commands that fit these systems (a room's)."""
    entry = next((s for s in systems if s.nodes), None)
    if entry is None:
        return pick(lang, "(이 방에 등록된 서버가 없습니다)", "(this room has no servers)")
    name, node = entry.name, entry.nodes[0]
    layer = node.layer
    if lang == "ko":
        lines = [
            f"@guardia {name} {layer} 상태 확인해줘",
            f"@guardia {name} 디스크 용량 확인",
            f"@guardia {node.asset_code} 로그 보여줘",
            f"@guardia {name} {layer} 재기동해줘",
        ]
    else:
        lines = [
            f"@guardia status of {entry.code} {layer}",
            f"@guardia check disk space on {entry.code}",
            f"@guardia tail the {node.asset_code} log",
            f"@guardia restart the {entry.code} {layer}",
        ]
    return "\n".join(f"  {line}" for line in lines)
