"""Every open socket on this hub by the principal it belongs to.

Revocation and rate limits are about principals, not sockets: a revoked user's every socket
closes, and one principal's sockets share one budget.
"""

from __future__ import annotations

from collections import defaultdict

from hub.wire.connection import Connection
from hub.wire.rate_limit import TokenBucket

Principal = tuple[str, str]  # (kind, name): ("user", "alice"), ("agent", "mof-agent-01")


class Peers:
    def __init__(self) -> None:
        self._by_principal: dict[Principal, set[Connection]] = defaultdict(set)
        self._budgets: dict[Principal, TokenBucket] = {}

    def budget(self, conn: Connection, rate: float, burst: float) -> TokenBucket:
        """The rate budget the principal's sockets share, made on first use."""
        key = (conn.identity.kind, conn.identity.name)
        bucket = self._budgets.get(key)
        if bucket is None:
            bucket = self._budgets[key] = TokenBucket(rate, burst)
        return bucket

    def add(self, conn: Connection) -> None:
        self._by_principal[(conn.identity.kind, conn.identity.name)].add(conn)

    def remove(self, conn: Connection) -> None:
        key = (conn.identity.kind, conn.identity.name)
        conns = self._by_principal.get(key)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._by_principal[key]
                self._budgets.pop(key, None)

    def of(self, kind: str, name: str) -> list[Connection]:
        return list(self._by_principal.get((kind, name), ()))

    def principals(self) -> list[Principal]:
        return list(self._by_principal)

    def __len__(self) -> int:
        return sum(len(conns) for conns in self._by_principal.values())
