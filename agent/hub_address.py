"""Where the hub is: its agent WebSocket URL and its HTTP base (for artifact downloads)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from agent.exceptions import UsageError

AGENT_PATH = "/ws/agent"

#: scheme given -> (WebSocket scheme, HTTP scheme)
_SCHEMES: dict[str, tuple[str, str]] = {
    "http": ("ws", "http"),
    "ws": ("ws", "http"),
    "https": ("wss", "https"),
    "wss": ("wss", "https"),
}


@dataclass(frozen=True)
class HubAddress:
    ws_url: str
    http_base: str

    def artifact_url(self, artifact_id: str) -> str:
        return f"{self.http_base}/api/artifacts/{artifact_id}"


def parse_hub_url(url: str) -> HubAddress:
    """Accept `http(s)://host:port[/prefix]`, `ws(s)://...`, or a URL ending in /ws/agent."""
    parts = urlsplit(url.strip())
    schemes = _SCHEMES.get(parts.scheme.lower())
    if schemes is None:
        raise UsageError(f"hub URL {url!r}: the scheme must be http, https, ws or wss")
    if not parts.hostname:
        raise UsageError(f"hub URL {url!r} has no host")
    if parts.username or parts.password:
        raise UsageError("the hub URL must not carry credentials: pass the token with --token")
    if parts.query or parts.fragment:
        raise UsageError(f"hub URL {url!r}: a query or fragment is not allowed")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError as exc:
        raise UsageError(f"hub URL {url!r}: bad port ({exc})") from None
    prefix = parts.path.rstrip("/")
    if prefix.endswith(AGENT_PATH):
        prefix = prefix[: -len(AGENT_PATH)]
    ws_scheme, http_scheme = schemes
    return HubAddress(
        ws_url=f"{ws_scheme}://{parts.netloc}{prefix}{AGENT_PATH}",
        http_base=f"{http_scheme}://{parts.netloc}{prefix}",
    )
