"""`guardia suggest`: what the bot would say about a line, and what it has learned.

    guardia suggest --cmdb FILE.yaml [--scope INST[/SYS]] [TEXT]   (hub/suggest/cli.py)
    guardia suggest stats [--days N]

The first needs no database and no network; `stats` reads the hub's database
(GUARDIA_DATABASE_URL) and prints, per kind, the suggestions made and what became of them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from cmdb.database import one_session
from cmdb.learning import KindStats, suggestion_stats
from cmdb.tables import utcnow
from hub.settings import Settings, SettingsError
from hub.suggest import cli as suggest_cli

_COLUMNS = ("made", "pressed", "dismissed", "muted", "ignored", "open")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cmdb", metavar="FILE.yaml", help="the CMDB file to ground plans in (not for stats)"
    )
    parser.add_argument(
        "--scope", metavar="INST[/SYS]", help="the room's scope, for lines that name no system"
    )
    parser.add_argument(
        "--days", type=float, metavar="N", help="stats: only suggestions of the last N days"
    )
    parser.add_argument(
        "text",
        nargs="?",
        help="a chat line (without it, one per line on stdin); `stats` for what was learned",
    )


def _table(rows: list[KindStats]) -> str:
    total = KindStats("all")
    for row in rows:
        for name in _COLUMNS:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    lines = [f"{'kind':<14}" + "".join(f"{c:>10}" for c in _COLUMNS) + f"{'precision':>11}"]
    for row in [*rows, total]:
        precision = "-" if row.precision is None else f"{row.precision:.0%}"
        lines.append(
            f"{row.kind:<14}"
            + "".join(f"{getattr(row, c):>10}" for c in _COLUMNS)
            + f"{precision:>11}"
        )
    return "\n".join(lines)


def stats(args: argparse.Namespace) -> int:
    since = utcnow() - timedelta(days=args.days) if args.days else None

    async def read() -> list[KindStats]:
        async with one_session() as session:
            return await suggestion_stats(session, since)

    print(_table(asyncio.run(read())))
    print(
        "precision = pressed / (pressed + dismissed); ignored = neither within the cooldown; "
        "open = still pressable"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.text == "stats" and args.cmdb is None:
        return stats(args)
    if args.cmdb is None:
        print(
            "guardia suggest: --cmdb FILE.yaml is needed to ground a line "
            "(or `guardia suggest stats`)",
            file=sys.stderr,
        )
        return 2
    try:
        threads = Settings.from_env().suggest_threads
    except SettingsError as exc:
        print(f"guardia suggest: bad setting: {exc}", file=sys.stderr)
        return 2
    return suggest_cli.run(args, threads=threads)
