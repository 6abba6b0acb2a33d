"""`guardia`: the operator's command line (operations.md, Commands)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from cmdb import accounts
from cmdb.database import create_engine, one_session, upgrade
from cmdb.exceptions import CmdbError
from hub.cli import bridges as cli_bridges
from hub.cli import parse as cli_parse
from hub.cli import principals
from hub.cli import suggest as cli_suggest

Command = Callable[[argparse.Namespace], int]


async def _with_session(work: Callable[[Any], Awaitable[Any]]) -> Any:
    async with one_session() as session:
        return await work(session)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    async def run() -> None:
        engine = create_engine()
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("database is up to date")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    when = principals.expires_at(args.expires)
    token = asyncio.run(
        _with_session(
            lambda s: accounts.add_user(
                s, args.name, args.role or [], bot=args.bot, expires_at=when
            )
        )
    )
    print(f"user {args.name} created; token (shown once, keep it safe):")
    print(token)
    return 0


def cmd_agent_add(args: argparse.Namespace) -> int:
    when = principals.expires_at(args.expires)
    token = asyncio.run(
        _with_session(lambda s: accounts.add_agent(s, args.agent_id, expires_at=when))
    )
    print(f"agent {args.agent_id} registered; token (shown once, keep it safe):")
    print(token)
    return 0


def cmd_room_add(args: argparse.Namespace) -> int:
    room = asyncio.run(
        _with_session(lambda s: accounts.add_room(s, args.room_id, args.name, args.scope))
    )
    print(f"room {room.id} created" + (f" (scope {room.scope})" if room.scope else ""))
    return 0


def cmd_cmdb_import(args: argparse.Namespace) -> int:
    from cmdb.document import load_cmdb_file
    from cmdb.importer import import_document

    document = load_cmdb_file(args.file)  # a bad file stops here, before the database
    counts = asyncio.run(_with_session(lambda s: import_document(s, document)))
    print("imported " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def cmd_cmdb_export(args: argparse.Namespace) -> int:
    from cmdb.dump import dump_cmdb
    from cmdb.importer import export_document

    document = asyncio.run(_with_session(export_document))
    sys.stdout.write(dump_cmdb(document))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.cli.demo import run_demo

    return run_demo(host=args.host, port=args.port, data_dir=args.data_dir)


def cmd_parse(args: argparse.Namespace) -> int:
    return cli_parse.run(args)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from hub.audit.verify import verify_anchored
    from hub.settings import Settings

    data_dir = Settings.from_env().data_dir
    verdict = asyncio.run(_with_session(lambda s: verify_anchored(s, data_dir)))
    print(verdict.message, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guardia", description="GUARDiA operator commands.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)

    user = sub.add_parser("user", help="users").add_subparsers(dest="user", required=True)
    user_add = user.add_parser("add", help="create a user; prints its token once")
    user_add.add_argument("name")
    user_add.add_argument(
        "--role", action="append", metavar="ROLE[:SCOPE]", help="viewer|operator|approver|admin"
    )
    user_add.add_argument("--bot", action="store_true", help="an integration, not a person")
    user_add.add_argument("--expires", metavar="LIFETIME|DATE", help="e.g. 30d or 2027-01-31")
    user_add.set_defaults(func=cmd_user_add)
    cli_bridges.add_user_link(user)

    agent = sub.add_parser("agent", help="agents").add_subparsers(dest="agent", required=True)
    agent_add = agent.add_parser("add", help="register an agent; prints its token once")
    agent_add.add_argument("agent_id")
    agent_add.add_argument("--expires", metavar="LIFETIME|DATE", help="e.g. 365d")
    agent_add.set_defaults(func=cmd_agent_add)
    principals.register(user, agent)

    room = sub.add_parser("room", help="rooms").add_subparsers(dest="room", required=True)
    room_add = room.add_parser("add", help="create a room")
    room_add.add_argument("room_id")
    room_add.add_argument("--name")
    room_add.add_argument("--scope", metavar="INST[/SYS]")
    room_add.set_defaults(func=cmd_room_add)
    cli_bridges.add_room_link(room)

    cmdb = sub.add_parser("cmdb", help="the CMDB file").add_subparsers(dest="cmdb", required=True)
    cmdb_import = cmdb.add_parser("import", help="create or update from a YAML file")
    cmdb_import.add_argument("file")
    cmdb_import.set_defaults(func=cmd_cmdb_import)
    cmdb.add_parser("export", help="write the CMDB as YAML to stdout").set_defaults(
        func=cmd_cmdb_export
    )

    demo = sub.add_parser("demo", help="hub, demo data and a local agent in one command")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", default="./guardia-demo")
    demo.set_defaults(func=cmd_demo)

    parse = sub.add_parser("parse", help="parse a command into its plan (JSON)")
    cli_parse.add_arguments(parse)
    parse.set_defaults(func=cmd_parse)

    suggest = sub.add_parser(
        "suggest", help="what the proactive bot would say about a line; `stats`: what it learned"
    )
    cli_suggest.add_arguments(suggest)
    suggest.set_defaults(func=cli_suggest.run)

    audit = sub.add_parser("audit", help="the audit chain").add_subparsers(
        dest="audit", required=True
    )
    audit.add_parser(
        "verify", help="check the chain; exit 1 at the first broken entry"
    ).set_defaults(func=cmd_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (CmdbError, argparse.ArgumentTypeError) as exc:
        print(f"guardia: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
