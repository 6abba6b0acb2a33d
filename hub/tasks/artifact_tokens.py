"""Task-scoped artifact tokens: good for one artifact of one task, checkable without storage.

token = "<task_id>.<artifact_id>.<hmac>", keyed by the hub's signing key; the endpoint also
checks that the task is still active and that its steps name the artifact.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _secret(key: Ed25519PrivateKey) -> bytes:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(b"guardia-artifact-token:" + raw).digest()


def fetch_token(key: Ed25519PrivateKey, task_id: str, artifact_id: str) -> str:
    mac = hmac.new(_secret(key), f"{task_id}.{artifact_id}".encode(), hashlib.sha256).hexdigest()
    return f"{task_id}.{artifact_id}.{mac}"


def check_fetch_token(key: Ed25519PrivateKey, token: str, artifact_id: str) -> str | None:
    """The task id the token was made for, if it is genuine and for this artifact."""
    parts = token.split(".")
    if len(parts) != 3 or parts[1] != artifact_id:
        return None
    expected = fetch_token(key, parts[0], artifact_id)
    return parts[0] if hmac.compare_digest(expected, token) else None
