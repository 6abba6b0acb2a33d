"""`guardia-agent`: flags (or GUARDIA_* environment variables), config, logging, run.

Exit codes: 0 stopped by a signal; 1 unexpected error; 2 bad usage, bad config, or the hub
refused the token (4401/4403). A supervisor should not restart the agent on 2 (systemd:
RestartPreventExitStatus=2). A 4409 (another process connected with this agent's id) is no
exit: the agent logs it loudly and keeps trying on a long backoff (agent/backoff.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from agent import __version__
from agent.catalog import CATALOG
from agent.config import AgentConfig, load_config
from agent.daemon import AgentDaemon, AgentSettings
from agent.exceptions import ConfigError, OutboxError, UsageError
from agent.hub_address import parse_hub_url
from agent.log_filter import configure_logging
from agent.patterns import AGENT_ID

PROG = "guardia-agent"
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="GUARDiA agent: dials out to the hub and runs its catalog of actions.",
        epilog="Prefer GUARDIA_AGENT_TOKEN to --token: other users can read a command line.",
    )
    parser.add_argument(
        "--hub",
        default=env("GUARDIA_HUB_URL"),
        help="hub URL: http(s)://host:port or ws(s)://host:port [env GUARDIA_HUB_URL]",
    )
    parser.add_argument(
        "--id",
        dest="agent_id",
        default=env("GUARDIA_AGENT_ID"),
        help="this agent's id, as registered on the hub [env GUARDIA_AGENT_ID]",
    )
    parser.add_argument(
        "--token",
        default=env("GUARDIA_AGENT_TOKEN"),
        help="the agent token from `guardia agent add` [env GUARDIA_AGENT_TOKEN]",
    )
    parser.add_argument(
        "--config",
        default=env("GUARDIA_AGENT_CONFIG"),
        help="agent.yaml: nodes, services, keys [env GUARDIA_AGENT_CONFIG]",
    )
    parser.add_argument(
        "--log-level",
        default=env("GUARDIA_AGENT_LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def settings_from(args: argparse.Namespace) -> AgentSettings:
    missing = [
        f"--{flag} (or {var})"
        for flag, var, value in (
            ("hub", "GUARDIA_HUB_URL", args.hub),
            ("id", "GUARDIA_AGENT_ID", args.agent_id),
            ("token", "GUARDIA_AGENT_TOKEN", args.token),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}")
    if not AGENT_ID.match(args.agent_id):
        raise UsageError(f"agent id {args.agent_id!r}: use letters, digits, '.', '_', '-'")
    if any(c.isspace() for c in args.token):
        raise UsageError("the token must not contain spaces or line breaks")
    hub = parse_hub_url(args.hub)
    config = (
        load_config(Path(args.config).expanduser(), known_actions=list(CATALOG))
        if args.config
        else AgentConfig()
    )
    return AgentSettings(agent_id=args.agent_id, token=args.token, hub=hub, config=config)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, [args.token or ""])
    try:
        settings = settings_from(args)
    except (UsageError, ConfigError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    daemon = AgentDaemon(settings)
    try:
        code = daemon.run()
    except OutboxError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except Exception:
        logging.getLogger("guardia.agent").exception("the agent failed")
        return 1
    if daemon.stop_reason is not None:
        print(f"{PROG}: stopped: {daemon.stop_reason.reason}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
