"""Ed25519 signatures over a task's canonical JSON, and the hub key's fingerprint.

The hub signs what the agent will act on (task id, the agent it is for, room, who asked and
approved, deadline, steps); an agent refuses a task whose signature does not verify with the
hub key it pinned at enrollment. Canonical JSON: keys sorted, no whitespace, UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.exceptions import SignatureError
from protocol.messages import TaskAssign

SIGNED_FIELDS = (
    "task_id",
    "agent_id",
    "room_id",
    "requested_by",
    "approved_by",
    "deadline",
    "steps",
)

#: "SHA256:" and 43 characters of unpadded base64 (OpenSSH's way of writing a key's digest)
FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")


def canonical_task(task: TaskAssign) -> bytes:
    """The bytes a signature covers."""
    body: dict[str, Any] = task.model_dump(mode="json", include=set(SIGNED_FIELDS))
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def sign_task(task: TaskAssign, key: Ed25519PrivateKey) -> TaskAssign:
    signature = base64.b64encode(key.sign(canonical_task(task))).decode()
    return task.model_copy(update={"signature": signature})


def verify_task(task: TaskAssign, key: Ed25519PublicKey) -> None:
    """Raise SignatureError unless the task carries a valid signature by `key`."""
    if not task.signature:
        raise SignatureError(f"task {task.task_id} is not signed")
    try:
        raw = base64.b64decode(task.signature, validate=True)
    except ValueError:
        raise SignatureError(f"task {task.task_id} has a malformed signature") from None
    try:
        key.verify(raw, canonical_task(task))
    except InvalidSignature:
        raise SignatureError(f"task {task.task_id}: signature does not verify") from None


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_to_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the hub signing key is not an Ed25519 private key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("the hub public key is not an Ed25519 public key")
    return key


def public_key_fingerprint(key: Ed25519PublicKey) -> str:
    """The key as a person compares it: "SHA256:" + unpadded base64 of the SHA-256 of the
    32 raw public key bytes (as `ssh-keygen -l` writes a key's digest)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def normalize_fingerprint(text: str) -> str:
    """A fingerprint as typed (padding, spaces around it) in the form public_key_fingerprint
    writes; raises SignatureError when it is not one."""
    value = text.strip().rstrip("=")
    if not FINGERPRINT.match(value):
        raise SignatureError(
            f"{text.strip()!r} is not a key fingerprint: expected SHA256: and 43 characters "
            "of base64, as `guardia agent add` prints it"
        )
    return value
