"""Where the hub is: its agent WebSocket URL and its HTTP base (artifacts, the hub key).

Cleartext (`ws://`, `http://`) only to a hub on loopback, or with `--insecure`: on any other
network the token and every task would be readable and changeable on the way (issue 17.11).
"""

from __future__ import annotations

import ipaddress
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

    @property
    def hub_key_url(self) -> str:
        """Where `guardia-agent enroll` fetches the hub's public key."""
        return f"{self.http_base}/api/agent/hub-key"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a link that never leaves this machine."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_hub_url(url: str, *, insecure: bool = False) -> HubAddress:
    """Accept `http(s)://host:port[/prefix]`, `ws(s)://...`, or a URL ending in /ws/agent.

    A cleartext scheme is refused unless the host is on loopback or `insecure` is set.
    """
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
    if ws_scheme == "ws" and not insecure and not is_loopback(parts.hostname):
        raise UsageError(
            f"hub URL {url!r}: {parts.scheme}:// sends the agent token and every task in "
            "cleartext; use wss:// or https://. Plain ws:// and http:// are for a hub on "
            "loopback (127.0.0.0/8, ::1, localhost), or pass --insecure to accept the risk"
        )
    return HubAddress(
        ws_url=f"{ws_scheme}://{parts.netloc}{prefix}{AGENT_PATH}",
        http_base=f"{http_scheme}://{parts.netloc}{prefix}",
    )
