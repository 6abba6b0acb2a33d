"""`guardia room link` and `guardia user link`: channels to rooms, accounts to users."""

from __future__ import annotations

import argparse
from typing import Any

from hub.bridges import links
from hub.cli.database import Need, run

ROOM_BRIDGES = ("slack", "mattermost")
USER_BRIDGES = ("slack", "mattermost", "messenger")


def _one_of(args: argparse.Namespace, names: tuple[str, ...]) -> tuple[str, str]:
    given = [(n, getattr(args, n)) for n in names if getattr(args, n)]
    if len(given) != 1:
        raise SystemExit("guardia: give exactly one of " + ", ".join(f"--{n}" for n in names))
    return given[0]


def _run(work: Any) -> Any:
    return run(Need.CHANGE, work)  # the room or user must already be in the database


def cmd_room_link(args: argparse.Namespace) -> int:
    bridge, channel = _one_of(args, ROOM_BRIDGES)
    try:
        link = _run(lambda s: links.link_room(s, args.room_id, bridge, channel))
    except ValueError as exc:
        raise SystemExit(f"guardia: {exc}") from None
    print(f"room {link.room_id} linked to {link.lane}")
    return 0


def cmd_user_link(args: argparse.Namespace) -> int:
    bridge, external_id = _one_of(args, USER_BRIDGES)
    try:
        key = _run(lambda s: links.link_user(s, args.name, bridge, external_id))
    except ValueError as exc:
        raise SystemExit(f"guardia: {exc}") from None
    print(f"{key} is user {args.name}")
    return 0


def add_room_link(rooms: Any) -> None:
    parser = rooms.add_parser("link", help="link a Slack or Mattermost channel to a room")
    parser.add_argument("room_id")
    parser.add_argument("--slack", metavar="CHANNEL_ID", help="a Slack channel id (C0123...)")
    parser.add_argument("--mattermost", metavar="CHANNEL_ID", help="a Mattermost channel id")
    parser.set_defaults(func=cmd_room_link)


def add_user_link(users: Any) -> None:
    parser = users.add_parser("link", help="say who an account of another messenger is")
    parser.add_argument("name")
    parser.add_argument("--slack", metavar="USER_ID", help="a Slack user id (U0123...)")
    parser.add_argument("--mattermost", metavar="USER_ID", help="a Mattermost user id")
    parser.add_argument("--messenger", metavar="ID", help="the user_id a messenger webhook sends")
    parser.set_defaults(func=cmd_user_link)
