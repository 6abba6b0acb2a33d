"""Bearer tokens: random, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a plain SHA-256 (not a slow password hash) is the
right tool: nothing to brute-force, and lookups by hash stay one index probe.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

USER_PREFIX = "gu_"
AGENT_PREFIX = "ga_"
INTEGRATION_PREFIX = "gi_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
