"""`guardia integration add|list|revoke`: senders that are not people (operations.md).

The token is printed once, on add; no command prints it again, nor the secret.
`--secret -` reads the secret from standard input (a command line is visible to others).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from cmdb.database import one_session
from cmdb.integrations import FORMATS, KINDS, add_integration, list_integrations
from cmdb.integrations import revoke_integration as revoke


async def _with_session(work: Callable[[Any], Awaitable[Any]]) -> Any:
    async with one_session() as session:
        return await work(session)


def cmd_add(args: argparse.Namespace) -> int:
    secret = args.secret
    if secret == "-":
        secret = sys.stdin.readline().strip()
    token = asyncio.run(
        _with_session(
            lambda s: add_integration(
                s,
                args.name,
                args.kind,
                room_id=args.room,
                secret=secret or None,
                callback_url=args.callback,
                fmt=args.format,
            )
        )
    )
    print(f"integration {args.name} ({args.kind}) created; token (shown once, keep it safe):")
    print(token)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows = asyncio.run(_with_session(list_integrations))
    header = ("name", "kind", "room", "format", "secret", "callback", "received", "ignored")
    table = [header]
    for r in rows:
        table.append(
            (
                r.name + (" (revoked)" if r.revoked else ""),
                r.kind,
                r.room_id or "-",
                r.format,
                "set" if r.has_secret else "-",
                "set" if r.has_callback else "-",
                str(r.alerts_received),
                str(r.alerts_ignored),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    asyncio.run(_with_session(lambda s: revoke(s, args.name)))
    print(f"integration {args.name} revoked; its token no longer works")
    return 0


def add_commands(sub: Any) -> None:
    """The `integration` subcommands, on the main parser's subparsers."""
    group = sub.add_parser("integration", help="integrations (alert senders, messengers)")
    commands = group.add_subparsers(dest="integration", required=True)
    add = commands.add_parser("add", help="create an integration; prints its token once")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--room", metavar="ROOM_ID", help="post its alerts in this room")
    add.add_argument(
        "--secret", metavar="SECRET", help="HMAC key the sender signs with; '-' reads stdin"
    )
    add.add_argument("--callback", metavar="URL", help="where replies go (messengers)")
    add.add_argument("--format", default="json", choices=FORMATS)
    add.set_defaults(func=cmd_add)
    commands.add_parser("list", help="integrations (never tokens or secrets)").set_defaults(
        func=cmd_list
    )
    revoke_cmd = commands.add_parser("revoke", help="stop an integration's token")
    revoke_cmd.add_argument("name")
    revoke_cmd.set_defaults(func=cmd_revoke)
