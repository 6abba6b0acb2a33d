"""Integrations as principals: who sent a request, proven before its body is read as JSON.

Every intake request carries `Authorization: Bearer <integration token>`. Senders that
sign (Sentry always, Grafana when configured with a secret) are checked on the raw bytes
with the integration's secret. Sentry cannot add headers to its webhooks, so a Sentry
integration may instead be named in the URL (`?integration=NAME`): then its signature is
the only proof and is always required. Used by the intake endpoints and by any other
endpoint of integrations (the messenger bridge): `IntegrationAuth.authenticate`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable, Collection, Mapping

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

from cmdb.integrations import IntegrationPrincipal, integration_by_name, integration_by_token
from cmdb.tokens import hash_token
from hub.intake.exceptions import PayloadTooLarge, Unauthenticated, WrongIntegration

#: Grafana's default signature header; its timestamp header is the one we document
GRAFANA_SIGNATURE = "x-grafana-alerting-signature"
GRAFANA_TIMESTAMP = "x-grafana-alerting-timestamp"
SENTRY_SIGNATURE = "sentry-hook-signature"
#: how far a signed timestamp may be from our clock, in seconds (replays beyond it fail)
MAX_SKEW = 300.0


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def same_signature(got: str, want: str) -> bool:
    got = got.strip().lower().removeprefix("sha256=")
    return hmac.compare_digest(got.encode(), want.encode())


def sentry_signature(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Sentry: HMAC-SHA256 (hex) of the body with the integration's client secret."""
    got = headers.get(SENTRY_SIGNATURE, "")
    if not got or not same_signature(got, hmac_hex(secret, body)):
        raise Unauthenticated("bad or missing Sentry-Hook-Signature")


def grafana_signature(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    """Grafana: HMAC-SHA256 (hex) of the body, or of `timestamp:body` with a timestamp header."""
    got = headers.get(GRAFANA_SIGNATURE, "")
    stamp = headers.get(GRAFANA_TIMESTAMP)
    message = body
    if stamp is not None:
        try:
            skew = abs(now - float(stamp))
        except ValueError:
            raise Unauthenticated("bad X-Grafana-Alerting-Timestamp") from None
        if skew > MAX_SKEW:
            raise Unauthenticated("X-Grafana-Alerting-Timestamp is too far from the hub's clock")
        message = stamp.encode() + b":" + body
    if not got or not same_signature(got, hmac_hex(secret, message)):
        raise Unauthenticated("bad or missing X-Grafana-Alerting-Signature")


SignatureCheck = Callable[[str, Mapping[str, str], bytes, float], None]
#: by integration kind; a kind here with a secret set must sign every request
SIGNATURE_CHECKS: dict[str, SignatureCheck] = {
    "sentry": sentry_signature,
    "grafana": grafana_signature,
}
#: kinds whose senders cannot send an Authorization header, only sign
NAMED_BY_URL = frozenset({"sentry"})


def bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused past `limit` bytes without reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


#: seconds a token's integration is remembered: a storm's requests cost no read each.
#: A revoked token stops working within this time (a user's socket keeps going longer).
PRINCIPAL_TTL = 2.0


class IntegrationAuth:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_bytes: int) -> None:
        self._sessions = sessions
        self._max_bytes = max_bytes
        self._known: dict[str, tuple[float, IntegrationPrincipal]] = {}
        self._lookups: dict[str, asyncio.Future[IntegrationPrincipal | None]] = {}

    async def _by_token(self, token: str) -> IntegrationPrincipal | None:
        digest = hash_token(token)
        known = self._known.get(digest)
        if known is not None and time.monotonic() - known[0] < PRINCIPAL_TTL:
            return known[1]
        # one read per token at a time: a storm's requests wait for it instead of each
        # taking a database connection when the entry expires
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = asyncio.ensure_future(self._look_up(token, digest))
            self._lookups[digest] = lookup
            lookup.add_done_callback(lambda _: self._lookups.pop(digest, None))
        return await asyncio.shield(lookup)

    async def _look_up(self, token: str, digest: str) -> IntegrationPrincipal | None:
        async with self._sessions() as session:
            who = await integration_by_token(session, token)
        if who is None:
            self._known.pop(digest, None)
            return None
        if len(self._known) > 10_000:  # bounded: tokens are few, guesses are not stored
            self._known.clear()
        self._known[digest] = (time.monotonic(), who)
        return who

    async def authenticate(
        self, request: Request, kinds: Collection[str]
    ) -> tuple[IntegrationPrincipal, bytes]:
        """The integration behind a request (of one of `kinds`) and the body it signed.

        Raises Unauthenticated (401), WrongIntegration (403) or PayloadTooLarge (413).
        """
        token = bearer(request.headers)
        named = request.query_params.get("integration")
        if token is not None:
            who = await self._by_token(token)
        elif named:
            async with self._sessions() as session:
                who = await integration_by_name(session, named)
            if who is not None and (who.kind not in NAMED_BY_URL or not who.secret):
                who = None  # only a signature can stand in for the token
        else:
            raise Unauthenticated("an integration bearer token is required")
        if who is None:
            raise Unauthenticated("unknown or revoked integration")
        if who.kind not in kinds:
            raise WrongIntegration(
                f"integration {who.name} is of kind {who.kind}; this endpoint takes "
                + ", ".join(sorted(kinds))
            )
        body = await read_body(request, self._max_bytes)
        self.verify(who, request.headers, body)
        return who, body

    @staticmethod
    def verify(who: IntegrationPrincipal, headers: Mapping[str, str], body: bytes) -> None:
        """Check the signature a kind of integration signs with, when it has a secret."""
        check = SIGNATURE_CHECKS.get(who.kind)
        if check is not None and who.secret:
            check(who.secret, headers, body, time.time())
