"""`guardia-agent enroll`: fetch the hub's public key with the agent token, check, pin.

    GET {hub}/api/agent/hub-key   Authorization: Bearer <agent token>   -> the PEM

With `--expect-fingerprint` (what `guardia agent add` printed) a key that does not match is
refused and nothing is written: someone answering in the hub's place is caught at enrollment.
Without it the first key seen is trusted and its fingerprint printed for a person to compare.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.exceptions import EnrollmentError, TransportError
from agent.http_client import http_get
from agent.hub_address import HubAddress
from agent.hub_key import Pinned, pin_key
from protocol import SignatureError
from protocol.signing import load_public_key, normalize_fingerprint, public_key_fingerprint

#: the whole exchange, at most
FETCH_TIMEOUT = 15.0
#: a PEM Ed25519 public key is 113 bytes; anything much larger is not one
MAX_KEY_BYTES = 16 * 1024


async def fetch_hub_key(
    address: HubAddress, token: str, *, timeout: float = FETCH_TIMEOUT
) -> Ed25519PublicKey:
    url = address.hub_key_url
    try:
        async with asyncio.timeout(timeout):
            response = await http_get(
                url, headers={"Authorization": f"Bearer {token}"}, max_body=MAX_KEY_BYTES
            )
    except TimeoutError:
        raise EnrollmentError(f"the hub at {url} did not answer within {timeout:g} s") from None
    except TransportError as exc:
        raise EnrollmentError(f"cannot fetch the hub key from {url}: {exc.message}") from None
    if response.status in (401, 403):
        raise EnrollmentError(
            f"the hub refused this agent's token (HTTP {response.status}): use the token "
            "`guardia agent add` printed for this agent id, in GUARDIA_AGENT_TOKEN"
        )
    if response.status != 200:
        raise EnrollmentError(
            f"the hub at {url} answered HTTP {response.status} {response.reason}: is this the "
            "hub's address? (or copy its hub.pub and set hub_public_key in agent.yaml)"
        )
    try:
        return load_public_key(response.body)
    except (SignatureError, ValueError):
        raise EnrollmentError(
            f"the answer from {url} is not an Ed25519 public key in PEM: nothing pinned"
        ) from None


async def enroll(
    address: HubAddress,
    token: str,
    target: Path,
    *,
    expect_fingerprint: str | None = None,
    force: bool = False,
) -> Pinned:
    """Fetch, check against `expect_fingerprint` when given, and pin the hub's key."""
    expected = None
    if expect_fingerprint is not None:
        try:
            expected = normalize_fingerprint(expect_fingerprint)
        except SignatureError as exc:
            raise EnrollmentError(f"--expect-fingerprint: {exc}") from None
    key = await fetch_hub_key(address, token)
    fingerprint = public_key_fingerprint(key)
    if expected is not None and fingerprint != expected:
        raise EnrollmentError(
            f"the hub's key has fingerprint {fingerprint}, not the expected {expected}: "
            "nothing pinned. Someone may be answering in the hub's place: check the URL, and "
            "the fingerprint with the hub's admin"
        )
    return pin_key(target, key, force=force)
