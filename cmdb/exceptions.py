"""Errors raised by the cmdb package.

CmdbError               something the operator asked of the CMDB cannot be done
├── NotFound            an unknown user, agent, room, institution, system or node
├── AlreadyExists       creating what is already there
└── CmdbFileError       a CMDB YAML file is refused; carries every problem found, by line
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class CmdbError(Exception):
    """A request of the CMDB that cannot be done, with a message a person can act on."""


class NotFound(CmdbError):
    pass


class AlreadyExists(CmdbError):
    pass


class CmdbProblem(NamedTuple):
    """One thing wrong with a CMDB file: its line (1-based; None for the whole file), why."""

    line: int | None
    reason: str


class CmdbFileError(CmdbError):
    """A refused CMDB file, with every problem found in it, in line order.

    `format()` is the one way both `guardia cmdb import` and `guardia parse --cmdb` print it:
    one `FILE:LINE: reason` line per problem (`FILE: reason` when no line applies), the way
    compilers do, so editors can jump to each. `str()` is the same text, headed by the count
    when there is more than one. `line` and `reason` are the first problem's.
    """

    def __init__(
        self,
        reason: str | None = None,
        *,
        line: int | None = None,
        source: str = "<cmdb>",
        problems: Iterable[CmdbProblem] = (),
    ) -> None:
        found = list(problems)
        if reason is not None:
            found.insert(0, CmdbProblem(line, reason))
        if not found:
            raise ValueError("a CmdbFileError needs at least one problem")
        # file-wide problems first, then by line; a stable sort keeps the order found within
        self.problems: tuple[CmdbProblem, ...] = tuple(
            sorted(dict.fromkeys(found), key=lambda p: -1 if p.line is None else p.line)
        )
        self.source = source
        self.line = self.problems[0].line
        self.reason = self.problems[0].reason
        super().__init__(self._text())

    def format(self) -> str:
        """Every problem, one `FILE:LINE: reason` line each."""
        lines = []
        for problem in self.problems:
            where = self.source if problem.line is None else f"{self.source}:{problem.line}"
            lines.append(f"{where}: {problem.reason}")
        return "\n".join(lines)

    def from_source(self, source: str) -> CmdbFileError:
        """The same problems, said to be in `source`."""
        return CmdbFileError(source=source, problems=self.problems)

    def _text(self) -> str:
        if len(self.problems) == 1:
            return self.format()
        return f"{self.source}: {len(self.problems)} problems\n{self.format()}"
