"""A room's scope as the engine sees it: `None` (everywhere), `INST` or `INST/SYS` (codes).

Exemplars are stored with a scope key, and a room sees the global exemplars plus those of
its own scope and of the scopes around it: a dismissal in an institution's room also
quiets that institution's system rooms, and one in a room without a scope stays in rooms
without a scope (it is not promoted to every room).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from hub.suggest.exceptions import BadScope

#: the scope key of the built-in exemplars, seen by every room
GLOBAL = "*"
#: the scope key of rooms that have no scope
UNSCOPED = "-"

_CODE = re.compile(r"[A-Z0-9_-]{1,64}")


class Scope(NamedTuple):
    institution: str
    system: str | None

    def __str__(self) -> str:
        return self.institution if self.system is None else f"{self.institution}/{self.system}"


def parse_scope(raw: str | None) -> Scope | None:
    """`None`, `'INST'` or `'INST/SYS'` to a Scope; anything else is a `BadScope`."""
    if raw is None or raw == "":
        return None
    parts = raw.split("/")
    if len(parts) > 2 or not all(_CODE.fullmatch(part) for part in parts):
        raise BadScope(f"a scope is INST or INST/SYS in CMDB codes ([A-Z0-9_-]), not {raw!r}")
    return Scope(parts[0], parts[1] if len(parts) == 2 else None)


def scope_key(scope: Scope | None) -> str:
    """The key a dismissal made under `scope` is stored with."""
    return UNSCOPED if scope is None else str(scope)


def visible_keys(scope: Scope | None) -> list[str]:
    """The scope keys whose exemplars a room of `scope` is judged by."""
    if scope is None:
        return [GLOBAL, UNSCOPED]
    keys = [GLOBAL, scope.institution]
    if scope.system is not None:
        keys.append(str(scope))
    return keys
