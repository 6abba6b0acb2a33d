"""Roles and scopes: "operator", "approver:MOF", "admin:MOF/BUDGET" (operations.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cmdb.exceptions import CmdbError

ROLES = ("viewer", "operator", "approver", "admin")
_GRANT = re.compile(r"^(viewer|operator|approver|admin)(?::([A-Z0-9_-]+)(?:/([A-Z0-9_-]+))?)?$")


@dataclass(frozen=True)
class Grant:
    role: str
    institution: str | None = None
    system: str | None = None

    @classmethod
    def parse(cls, text: str) -> Grant:
        match = _GRANT.match(text.strip())
        if match is None:
            raise CmdbError(
                f"bad role {text!r}: expected ROLE or ROLE:INST or ROLE:INST/SYS with ROLE one of "
                + ", ".join(ROLES)
            )
        return cls(*match.groups())

    def __str__(self) -> str:
        if self.institution is None:
            return self.role
        if self.system is None:
            return f"{self.role}:{self.institution}"
        return f"{self.role}:{self.institution}/{self.system}"

    def covers(self, institution: str | None, system: str | None = None) -> bool:
        """Whether this grant's scope includes the institution/system (None: anything)."""
        if self.institution is None:
            return True
        if institution is None or institution != self.institution:
            return False
        return self.system is None or self.system == system


def parse_scope(scope: str | None) -> tuple[str | None, str | None]:
    if not scope:
        return None, None
    inst, _, system = scope.partition("/")
    return inst, (system or None)
