"""`guardia-agent`: flags (or GUARDIA_* environment variables), config, logging, run.

    guardia-agent --hub URL --id ID [--config agent.yaml]     run the daemon
    guardia-agent enroll --hub URL --id ID [--expect-fingerprint SHA256:...] [--force]
                                                              fetch and pin the hub's key

Exit codes: 0 stopped by a signal (or enrolled); 1 unexpected error; 2 bad usage, bad config,
no pinned hub key, a failed enrollment, or the hub refused the token (4401/4403). A
supervisor should not restart the agent on 2 (systemd: RestartPreventExitStatus=2). A 4409
(another process connected with this agent's id) is no exit: the agent logs it loudly and
keeps trying on a long backoff (agent/backoff.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agent import __version__
from agent.catalog import CATALOG
from agent.config import AgentConfig, load_config
from agent.daemon import AgentDaemon, AgentSettings
from agent.enrollment import enroll
from agent.exceptions import AgentError, ConfigError, EnrollmentError, OutboxError, UsageError
from agent.hub_address import HubAddress, parse_hub_url
from agent.hub_key import hub_key_path, load_pinned_key
from agent.log_filter import FORMATS, configure_logging
from agent.patterns import AGENT_ID

PROG = "guardia-agent"
EXIT_USAGE = 2
TRUE = ("1", "true", "yes", "on")


def _common_flags(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument(
        "--hub",
        default=env("GUARDIA_HUB_URL"),
        help="hub URL: https://host:port or wss://host:port [env GUARDIA_HUB_URL]",
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
        "--insecure",
        action="store_true",
        default=env("GUARDIA_AGENT_INSECURE", "").lower() in TRUE,
        help="allow ws:// or http:// to a hub that is not on loopback: the token and tasks "
        "cross the network in cleartext [env GUARDIA_AGENT_INSECURE=1]",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="GUARDiA agent: dials out to the hub and runs its catalog of actions. "
        f"`{PROG} enroll --help`: pin the hub's key first.",
        epilog="Prefer GUARDIA_AGENT_TOKEN to --token: other users can read a command line.",
    )
    _common_flags(parser)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("GUARDIA_AGENT_LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=_port(os.environ.get("GUARDIA_AGENT_METRICS_PORT")),
        metavar="PORT",
        help="serve Prometheus /metrics and /healthz on 127.0.0.1:PORT "
        "[env GUARDIA_AGENT_METRICS_PORT]",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def build_enroll_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} enroll",
        description="Fetch the hub's public key with this agent's token, check its "
        "fingerprint, and pin it where the agent will look for it (agent.yaml's "
        "hub_public_key, else agent-<id>.hub.pub beside the outbox).",
        epilog="Prefer GUARDIA_AGENT_TOKEN to --token: other users can read a command line.",
    )
    _common_flags(parser)
    parser.add_argument(
        "--expect-fingerprint",
        metavar="SHA256:...",
        help="the fingerprint `guardia agent add` printed; any other key is refused",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace a different key that is already pinned"
    )
    return parser


def _identity(args: argparse.Namespace) -> tuple[str, str, HubAddress, AgentConfig]:
    """Agent id, token, hub address and config from the flags, checked."""
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
    hub = parse_hub_url(args.hub, insecure=args.insecure)
    config = (
        load_config(Path(args.config).expanduser(), known_actions=list(CATALOG))
        if args.config
        else AgentConfig()
    )
    return args.agent_id, args.token, hub, config


def _port(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def log_format() -> str:
    fmt = os.environ.get("GUARDIA_LOG_FORMAT", "json").strip().lower() or "json"
    if fmt not in FORMATS:
        raise UsageError(f"GUARDIA_LOG_FORMAT={fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def settings_from(args: argparse.Namespace) -> AgentSettings:
    agent_id, token, hub, config = _identity(args)
    port = args.metrics_port
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--metrics-port {port}: not a TCP port")
    hub_key = load_pinned_key(hub_key_path(config, agent_id), agent_id)
    return AgentSettings(
        agent_id=agent_id,
        token=token,
        hub=hub,
        config=config,
        hub_key=hub_key,
        metrics_port=port,
    )


def enroll_main(argv: Sequence[str]) -> int:
    args = build_enroll_parser().parse_args(argv)
    configure_logging("warning", [args.token or ""])
    try:
        agent_id, token, hub, config = _identity(args)
        target = hub_key_path(config, agent_id)
        pinned = asyncio.run(
            enroll(hub, token, target, expect_fingerprint=args.expect_fingerprint, force=args.force)
        )
    except AgentError as exc:
        print(f"{PROG} enroll: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verb = "pinned" if pinned.changed else "already pinned"
    print(f"{verb} the hub key {pinned.fingerprint} at {pinned.path}")
    if args.expect_fingerprint is None:
        print(
            f"{PROG} enroll: no --expect-fingerprint given: compare {pinned.fingerprint} with "
            "the fingerprint `guardia agent add` printed before trusting this hub",
            file=sys.stderr,
        )
    return 0


#: subcommands by their first word; no subcommand runs the daemon
COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"enroll": enroll_main}


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in COMMANDS:
        return COMMANDS[words[0]](words[1:])
    args = build_parser().parse_args(words)
    try:
        fmt = log_format()
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(args.log_level, [args.token or ""], fmt=fmt, agent_id=args.agent_id)
    try:
        settings = settings_from(args)
    except (UsageError, ConfigError, EnrollmentError) as exc:
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
