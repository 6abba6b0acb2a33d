"""Errors raised by the cmdb package.

CmdbError               something the operator asked of the CMDB cannot be done
├── NotFound            an unknown user, agent, room, institution, system or node
├── AlreadyExists       creating what is already there
└── CmdbFileError       a CMDB YAML file is refused; carries the line and the reason
"""

from __future__ import annotations


class CmdbError(Exception):
    """A request of the CMDB that cannot be done, with a message a person can act on."""


class NotFound(CmdbError):
    pass


class AlreadyExists(CmdbError):
    pass


class CmdbFileError(CmdbError):
    def __init__(self, reason: str, *, line: int | None = None, source: str = "<cmdb>") -> None:
        where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(where + reason)
        self.reason = reason
        self.line = line
        self.source = source
