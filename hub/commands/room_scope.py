"""A room bounds what may be commanded in it: only systems inside its scope.

Everyone who may join a room sees what is said in it, results included, so a command may
only target what every possible member is allowed to see: the systems inside the room's
scope. A room without a scope admits everyone, so nothing may be commanded there.
"""

from __future__ import annotations

from cmdb.grants import parse_scope
from cmdb.index import CmdbIndex, SystemEntry
from cmdb.tables import Room
from hub.exceptions import Forbidden
from hub.i18n import pick


def room_covers(room: Room, institution: str | None, system: str | None) -> bool:
    """Whether a target (an institution, and a system of it or None) is inside the room."""
    inst, sys = parse_scope(room.scope)
    if inst is None:
        return False
    return institution == inst and (sys is None or system == sys)


def require_commandable(room: Room, lang: str) -> None:
    """Refuse commands in a room without a scope (a lobby anyone may join)."""
    if room.scope is None:
        raise Forbidden(
            pick(
                lang,
                f"{room.id} 방은 범위(scope)가 없어 누구나 들어올 수 있으므로 명령을 실행하지 "
                "않습니다. 해당 시스템의 방에서 요청해 주세요.",
                f"Room {room.id} has no scope, so anyone may join it and see results: commands "
                "are not run here. Ask in the system's room.",
            )
        )


def require_in_room(room: Room, institution: str | None, system: str | None, lang: str) -> None:
    """Refuse a target outside the room's scope."""
    require_commandable(room, lang)
    if not room_covers(room, institution, system):
        raise Forbidden(
            pick(
                lang,
                f"이 방({room.scope})의 범위 밖에 있는 시스템은 여기서 실행할 수 없습니다.",
                f"That system is outside this room's scope ({room.scope}); it cannot be run "
                "from here.",
            )
        )


def systems_in_room(index: CmdbIndex, room: Room) -> list[SystemEntry]:
    """The CMDB's systems a room's members may hear about."""
    inst, sys = parse_scope(room.scope)
    if inst is None:
        return []
    return [s for s in index.systems_of(inst) if sys is None or s.code == sys]
