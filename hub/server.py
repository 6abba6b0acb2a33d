"""`guardia-hub`: the hub under uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from hub.app import create_app
from hub.ops import logs, redaction
from hub.settings import Settings, SettingsError
from hub.web.connection_guard import protocol_options


def build_config(
    settings: Settings, host: str, port: int, log_level: str = "info"
) -> uvicorn.Config:
    """uvicorn with the guard's protocols: h11 with a header deadline and a per-address cap,
    websockets-sansio without compression (3-20x memory per connection, benchmarks.md)."""
    return uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        **protocol_options(settings),
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,
        ws_ping_interval=settings.agent_ping_interval,
        ws_ping_timeout=settings.agent_ping_interval,
        log_level=log_level,
        # uvicorn's access and error lines in the hub's format (GUARDIA_LOG_FORMAT)
        log_config=logs.log_config(settings.log_format, log_level),
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,  # no `server: uvicorn` telling a scanner what to try
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="guardia-hub", description="Run the GUARDiA hub.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"guardia-hub: bad setting: {exc}", file=sys.stderr)
        sys.exit(2)
    redaction.register(settings.secret_values())
    logs.configure(settings.log_format, args.log_level)
    server = uvicorn.Server(build_config(settings, args.host, args.port, args.log_level))
    server.run()


if __name__ == "__main__":
    main()
