"""`guardia`: the operator's command line (operations.md, Commands)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from cmdb import accounts
from cmdb.database import database_url
from cmdb.exceptions import CmdbError, CmdbFileError
from hub.cli import bridges as cli_bridges
from hub.cli import parse as cli_parse
from hub.cli import principals
from hub.cli import suggest as cli_suggest
from hub.cli.database import Need, NoDatabase, run, shown
from hub.cli.integration import add_commands as add_integration_commands

Command = Callable[[argparse.Namespace], int]
#: the exit status of a refused CMDB file or a missing database, as `guardia parse` uses
EXIT_REFUSED = 2


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    async def nothing(session: object) -> None:
        return None

    run(Need.CREATE, nothing)  # the session upgrades the schema before it opens
    print(f"database at {shown(database_url())} is up to date")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    when = principals.expires_at(args.expires)
    token = run(
        Need.CREATE,
        lambda s: accounts.add_user(s, args.name, args.role or [], bot=args.bot, expires_at=when),
    )
    print(f"user {args.name} created; token (shown once, keep it safe):")
    print(token)
    return 0


def cmd_agent_add(args: argparse.Namespace) -> int:
    when = principals.expires_at(args.expires)
    token = run(Need.CREATE, lambda s: accounts.add_agent(s, args.agent_id, expires_at=when))
    print(f"agent {args.agent_id} registered; token (shown once, keep it safe):")
    print(token)
    fingerprint = _hub_fingerprint()
    if fingerprint is not None:
        print(
            "enroll it on its machine with: guardia-agent enroll --hub URL "
            f"--id {args.agent_id} --expect-fingerprint {fingerprint}"
        )
    return 0


def _hub_fingerprint() -> str | None:
    """The fingerprint of the hub key agents pin: the key in the hub's data directory
    (GUARDIA_DATA_DIR), made now if the hub has not started yet, as it would on its start."""
    from hub.keys import load_signing_key
    from hub.settings import Settings
    from protocol.signing import public_key_fingerprint

    key = load_signing_key(Settings.from_env().data_dir)
    return public_key_fingerprint(key.public_key())


def cmd_room_add(args: argparse.Namespace) -> int:
    room = run(Need.CREATE, lambda s: accounts.add_room(s, args.room_id, args.name, args.scope))
    print(f"room {room.id} created" + (f" (scope {room.scope})" if room.scope else ""))
    return 0


def cmd_cmdb_import(args: argparse.Namespace) -> int:
    from cmdb.document import load_cmdb_file
    from cmdb.importer import import_document

    document = load_cmdb_file(args.file)  # a bad file stops here, before the database
    counts = run(Need.CREATE, lambda s: import_document(s, document, source=args.file))
    print("imported " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def cmd_cmdb_export(args: argparse.Namespace) -> int:
    from cmdb.dump import dump_cmdb
    from cmdb.importer import export_document

    document = run(Need.READ, export_document)
    sys.stdout.write(dump_cmdb(document))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.cli.demo import run_demo

    return run_demo(host=args.host, port=args.port, data_dir=args.data_dir)


def cmd_parse(args: argparse.Namespace) -> int:
    return cli_parse.run(args)


def cmd_suggest(args: argparse.Namespace) -> int:
    return cli_suggest.run(args)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from hub.audit.verify import verify_anchored
    from hub.settings import Settings

    data_dir = Settings.from_env().data_dir.resolve()
    verdict = run(Need.READ, lambda s: verify_anchored(s, data_dir))
    print(verdict.message, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from hub.ops.status import gather, render
    from hub.settings import Settings

    async def nothing(session: object) -> None:
        return None

    run(Need.READ, nothing)  # a status of a database made up now would be a lie
    report = asyncio.run(gather(Settings.from_env()))
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n" if args.json else render(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guardia",
        description="GUARDiA operator commands.",
        epilog="The database: GUARDIA_DATABASE_URL, else ./guardia.db in this directory "
        "(docs/operations.md, Commands).",
    )
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
    demo.add_argument("--host", default="127.0.0.1", help="where the hub listens (127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="the hub's port (8000)")
    demo.add_argument(
        "--data-dir",
        default="./guardia-demo",
        help="database, keys, tokens and files of the demo, kept between runs (./guardia-demo)",
    )
    demo.set_defaults(func=cmd_demo)

    status = sub.add_parser("status", help="agents, tasks, approvals, incidents, latencies")
    status.add_argument("--json", action="store_true", help="one JSON object instead of text")
    status.set_defaults(func=cmd_status)

    parse = sub.add_parser("parse", help="parse a command into its plan (JSON)")
    cli_parse.add_arguments(parse)
    parse.set_defaults(func=cmd_parse)

    suggest = sub.add_parser(
        "suggest", help="what the proactive bot would say about a line; `stats`: what it learned"
    )
    cli_suggest.add_arguments(suggest)
    suggest.set_defaults(func=cli_suggest.run)
    add_integration_commands(sub)

    audit = sub.add_parser("audit", help="the audit chain").add_subparsers(
        dest="audit", required=True
    )
    audit.add_parser(
        "verify", help="check the chain; exit 1 at the first broken entry"
    ).set_defaults(func=cmd_audit_verify)
    return parser


def _prog(args: argparse.Namespace) -> str:
    """`guardia cmdb import`: the command's own name, the way `guardia parse:` starts."""
    words = ["guardia", args.command]
    sub = getattr(args, args.command, None)
    if isinstance(sub, str):
        words.append(sub)
    return " ".join(words)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (CmdbFileError, NoDatabase) as exc:
        # every problem of a file, one `FILE:LINE: reason` line each, as `guardia parse` says
        print(f"{_prog(args)}: {exc}", file=sys.stderr)
        code = EXIT_REFUSED
    except (CmdbError, argparse.ArgumentTypeError) as exc:
        print(f"guardia: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
