"""`guardia user revoke|rotate`, `guardia agent revoke|rotate`, and token lifetimes.

A revoked or rotated token stops working at once, and every hub closes the sockets opened
with it within a second or so (hub/wire/credentials.py watches the database).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cmdb import accounts
from hub.cli.database import Need, run

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def expires_at(text: str | None) -> datetime | None:
    """`--expires`: a lifetime (`90m`, `12h`, `30d`) or a UTC date/time (`2027-01-31`)."""
    if text is None:
        return None
    match = _DURATION.match(text.strip())
    if match is not None:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        return datetime.now(UTC) + timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--expires {text!r}: give a lifetime like 90m, 12h, 30d or a date like 2027-01-31"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _run(work: Callable[[Any], Awaitable[Any]]) -> Any:
    return run(Need.CHANGE, work)  # the user or agent must already be in the database


def _expiry_note(when: datetime | None) -> str:
    return "" if when is None else f" (expires {when.isoformat(timespec='minutes')})"


def cmd_revoke(args: argparse.Namespace) -> int:
    _run(lambda s: accounts.revoke(s, args.kind, args.name))
    print(f"{args.kind} {args.name} revoked: its token no longer works; open sockets close")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    when = expires_at(args.expires)
    token = _run(lambda s: accounts.rotate_token(s, args.kind, args.name, expires_at=when))
    print(
        f"{args.kind} {args.name} has a new token{_expiry_note(when)}; the old one no longer "
        "works. Token (shown once, keep it safe):"
    )
    print(token)
    return 0


def register(user: Any, agent: Any) -> None:
    """Add revoke and rotate to `guardia user` and `guardia agent` (argparse subparsers)."""
    for group, kind, what in ((user, "user", "NAME"), (agent, "agent", "AGENT_ID")):
        revoke = group.add_parser("revoke", help=f"revoke the {kind}'s token, close its sockets")
        revoke.add_argument("name", metavar=what)
        revoke.set_defaults(func=cmd_revoke, kind=kind)
        rotate = group.add_parser("rotate", help=f"give the {kind} a new token; the old one dies")
        rotate.add_argument("name", metavar=what)
        rotate.add_argument("--expires", metavar="LIFETIME|DATE", help="e.g. 30d or 2027-01-31")
        rotate.set_defaults(func=cmd_rotate, kind=kind)
