"""CHECK_DISK_SPACE: `df -P -k` on the node, parsed into numbers per mount.

The step fails when a file system is at or over `warn_percent` (default 90): the room sees
a red result for a disk that needs attention. output_tail is the parsed table, one line per
mount: `mount, used_percent, used_kib, available_kib, size_kib, filesystem`, tab-separated.
data: {"threshold": 90, "filesystems": [{"mount", "device", "size_kb", "used_kb",
"avail_kb", "use_percent"}]}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from agent.step import ActionSpec, StepContext, StepOutcome, StepParams

DF_COMMAND = "LC_ALL=C df -P -k"
TABLE_HEADER = "mount\tused_percent\tused_kib\tavailable_kib\tsize_kib\tfilesystem"

# POSIX format: the file system name and the mount point may contain spaces
_DF_LINE = re.compile(
    r"^(?P<fs>.+?)\s+(?P<size>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)\s+(?P<pct>\d+)%\s+"
    r"(?P<mount>/.*)$"
)


class DiskParams(StepParams):
    warn_percent: Annotated[float, Field(ge=1, le=100)] = 90


@dataclass(frozen=True)
class Mount:
    filesystem: str
    mount: str
    size_kib: int
    used_kib: int
    available_kib: int
    used_percent: int

    def describe(self) -> str:
        return (
            f"{self.mount} {self.used_percent}% "
            f"({_size(self.available_kib)} free of {_size(self.size_kib)})"
        )

    def fields(self) -> dict[str, Any]:
        return {
            "mount": self.mount,
            "device": self.filesystem,
            "size_kb": self.size_kib,
            "used_kb": self.used_kib,
            "avail_kb": self.available_kib,
            "use_percent": self.used_percent,
        }

    def row(self) -> str:
        return (
            f"{self.mount}\t{self.used_percent}\t{self.used_kib}\t{self.available_kib}\t"
            f"{self.size_kib}\t{self.filesystem}"
        )


def parse_df(text: str) -> list[Mount]:
    """The mounts of `df -P -k` output; pseudo file systems of size 0 are left out."""
    mounts = []
    for line in text.splitlines():
        match = _DF_LINE.match(line.rstrip())
        if match is None or int(match["size"]) == 0:
            continue
        mounts.append(
            Mount(
                filesystem=match["fs"],
                mount=match["mount"],
                size_kib=int(match["size"]),
                used_kib=int(match["used"]),
                available_kib=int(match["avail"]),
                used_percent=int(match["pct"]),
            )
        )
    return mounts


def disk_summary(mounts: list[Mount], warn_percent: float) -> tuple[bool, str]:
    if not mounts:
        return False, "df listed no file systems"
    fullest = sorted(mounts, key=lambda m: m.used_percent, reverse=True)
    over = [m for m in fullest if m.used_percent >= warn_percent]
    limit = f"{warn_percent:g}%"
    if over:
        listed = ", ".join(m.describe() for m in over[:5])
        return False, f"{len(over)} of {len(mounts)} file systems at or over {limit}: {listed}"
    listed = ", ".join(m.describe() for m in fullest[:3])
    return True, f"{len(mounts)} file systems, none at or over {limit}; fullest: {listed}"


def _size(kib: int) -> str:
    for unit, scale in (("TiB", 1024**3), ("GiB", 1024**2), ("MiB", 1024)):
        if kib >= scale:
            return f"{kib / scale:.1f} {unit}"
    return f"{kib} KiB"


def disk_data(mounts: list[Mount], warn_percent: float) -> dict[str, Any]:
    threshold = int(warn_percent) if float(warn_percent).is_integer() else warn_percent
    return {"threshold": threshold, "filesystems": [m.fields() for m in mounts]}


async def check_disk_space(ctx: StepContext, params: DiskParams) -> StepOutcome:
    result = await ctx.transport.run(DF_COMMAND)
    mounts = parse_df(result.stdout)
    data = disk_data(mounts, params.warn_percent)
    if not result.ok and not mounts:
        return StepOutcome(
            False,
            f"df failed (exit {result.exit_code}): {result.last_error_line()}",
            result.exit_code,
            result.output,
            data,
        )
    ok, summary = disk_summary(mounts, params.warn_percent)
    table = "\n".join([TABLE_HEADER, *(m.row() for m in mounts)])
    return StepOutcome(ok, summary, result.exit_code, table, data)


ACTION = ActionSpec("CHECK_DISK_SPACE", DiskParams, check_disk_space, output_limit=32 * 1024)
