"""Ed25519 signatures over a task's canonical JSON.

The hub signs what the agent will act on (task id, room, who asked and approved, deadline,
steps); an agent configured with the hub's public key refuses a task whose signature does not
verify. Canonical JSON: keys sorted, no whitespace, UTF-8.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.exceptions import SignatureError
from protocol.messages import TaskAssign

SIGNED_FIELDS = ("task_id", "room_id", "requested_by", "approved_by", "deadline", "steps")


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
