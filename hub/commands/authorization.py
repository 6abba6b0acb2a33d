"""Who may do what, where (operations.md, Permissions).

viewer: chat only. operator: read-only commands run at once; changes are requested.
approver: approves others' changes in scope, never their own. admin: everything.
"""

from __future__ import annotations

from cmdb.accounts import Identity
from hub.exceptions import Forbidden
from hub.i18n import pick

READ_ONLY_ACTIONS = frozenset(
    {"CHECK_DISK_SPACE", "SERVICE_STATUS", "HEALTH_CHECK", "FETCH_DB_LOCKS", "TAIL_LOG"}
)
_COMMANDERS = frozenset({"operator", "approver", "admin"})


def _scope_text(institution: str | None, system: str | None) -> str:
    if institution is None:
        return "*"
    return institution if system is None else f"{institution}/{system}"


def roles_in_scope(identity: Identity, institution: str | None, system: str | None) -> set[str]:
    return {g.role for g in identity.grants if g.covers(institution, system)}


def require_command(
    identity: Identity, institution: str | None, system: str | None, lang: str
) -> set[str]:
    """The roles that let this user command in the scope; Forbidden if none do."""
    roles = roles_in_scope(identity, institution, system)
    if roles & _COMMANDERS:
        return roles
    where = _scope_text(institution, system)
    if not roles:
        if not _knows(identity, institution):
            # say nothing of where the target belongs to someone with no role there at all
            raise Forbidden(
                pick(
                    lang,
                    f"{identity.name}님은 그 시스템에 대한 권한이 없습니다.",
                    f"{identity.name} has no role for that system.",
                )
            )
        raise Forbidden(
            pick(
                lang,
                f"{identity.name}님은 {where} 범위의 권한이 없습니다.",
                f"{identity.name} has no role in scope {where}.",
            )
        )
    raise Forbidden(
        pick(
            lang,
            f"{identity.name}님은 {where}에서 조회자(viewer)라 명령을 실행할 수 없습니다.",
            f"{identity.name} is a viewer in {where} and cannot run commands.",
        )
    )


def _knows(identity: Identity, institution: str | None) -> bool:
    """Whether the user has any role in the institution (and so may hear its codes)."""
    return any(g.institution in (None, institution) for g in identity.grants)


def require_approver(
    identity: Identity, requester: str, institution: str | None, system: str | None, lang: str
) -> None:
    """An approver (or admin) in scope who is not the requester."""
    if identity.name == requester:
        raise Forbidden(
            pick(
                lang,
                "본인이 요청한 변경은 본인이 승인할 수 없습니다.",
                "You cannot approve your own change request.",
            )
        )
    roles = roles_in_scope(identity, institution, system)
    if not roles & {"approver", "admin"}:
        where = _scope_text(institution, system) if _knows(identity, institution) else "-"
        raise Forbidden(
            pick(
                lang,
                f"{identity.name}님은 {where}의 승인 권한이 없습니다.",
                f"{identity.name} may not approve changes in {where}.",
            )
        )
