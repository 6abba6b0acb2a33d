"""What the bridges say to people, in their language: status names, refusals, senders."""

from __future__ import annotations

from hub.bridges.lanes import BRIDGE_TITLES
from hub.i18n import pick

STATUS: dict[str, tuple[str, str, str]] = {  # status: (emoji, Korean, English)
    "QUEUED": ("⏳", "대기", "queued"),
    "PENDING_APPROVAL": ("✋", "승인 대기", "waiting for approval"),
    "APPROVED": ("👍", "승인됨", "approved"),
    "DISPATCHED": ("📤", "에이전트로 전송", "sent to the agent"),
    "RUNNING": ("⚙️", "실행 중", "running"),
    "SUCCEEDED": ("✅", "성공", "succeeded"),
    "FAILED": ("❌", "실패", "failed"),
    "TIMED_OUT": ("⌛", "시간 초과", "timed out"),
    "CANCELLED": ("🚫", "취소됨", "cancelled"),
    "REJECTED": ("🙅", "반려됨", "rejected"),
    "EXPIRED": ("⌛", "만료됨", "expired"),
}


def status_line(status: str | None, lang: str) -> str | None:
    if status is None:
        return None
    emoji, ko, en = STATUS.get(status, ("•", status, status))
    return f"{emoji} {pick(lang, ko, en)}"


def via_title(via: str | None) -> str | None:
    """`slack:C0123` -> `Slack`: how the web app and other lanes name where a line came from."""
    if not via:
        return None
    bridge = via.partition(":")[0]
    return BRIDGE_TITLES.get(bridge, bridge)


def not_linked(bridge: str, external_id: str, lang: str, doing: str) -> str:
    """Why an account that is no GUARDiA user may chat but not command or press buttons."""
    title = BRIDGE_TITLES.get(bridge, bridge)
    what = {
        "command": ("명령을 실행할", "run commands"),
        "press": ("버튼을 누를", "press buttons"),
    }[doing]
    return pick(
        lang,
        f"이 {title} 계정({external_id})은 GUARDiA 사용자와 연결되어 있지 않아 {what[0]} 수 "
        f"없습니다. 관리자에게 `guardia user link 이름 --{bridge} {external_id}`를 요청하세요.",
        f"This {title} account ({external_id}) is not linked to a GUARDiA user, so it cannot "
        f"{what[1]}. Ask an admin to run `guardia user link NAME --{bridge} {external_id}`.",
    )


def not_linked_channel(lang: str) -> str:
    return pick(
        lang,
        "이 채널은 GUARDiA 방과 연결되어 있지 않습니다 (`guardia room link`).",
        "This channel is not linked to a GUARDiA room (`guardia room link`).",
    )


def received(lang: str) -> str:
    return pick(lang, "명령을 받았습니다.", "Command received.")
