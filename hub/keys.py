"""The hub's task-signing key in its data directory (shared storage when hubs are several)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import (
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_to_pem,
)


def load_signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The hub's Ed25519 task-signing key, made on first start; hub.pub is for agents."""
    data_dir.mkdir(parents=True, exist_ok=True)
    private = data_dir / "hub_signing_key.pem"
    if private.exists():
        key = load_private_key(private.read_bytes())
    else:
        key = generate_private_key()
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_key_to_pem(key))
    (data_dir / "hub.pub").write_bytes(public_key_to_pem(key.public_key()))
    return key


def load_audit_key(data_dir: Path) -> bytes:
    """The key that anchors audit entries (their MACs), made on first start, kept out of the
    database: someone who can rewrite the database cannot recompute the MACs without it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "audit.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise ValueError(
                f"{path}: an audit key is 32 bytes, this file has {len(key)}"
            ) from None
        return key
    key = os.urandom(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
