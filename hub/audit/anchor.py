"""The signed head of the audit chain, in the data directory, outside the database.

After each append the hub writes `audit-head.json`: the last entry's seq and hash, signed with
its task-signing key. A truncated chain (its tail deleted), a wiped table or a chain rebuilt
from scratch no longer reaches the signed head, which `guardia audit verify` checks. Several
hubs share the data directory: the file only ever moves forward (a lock, and the higher seq
wins).
"""

from __future__ import annotations

import base64
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEAD_FILE = "audit-head.json"


@dataclass(frozen=True)
class SignedHead:
    seq: int
    hash: str


def _message(seq: int, digest: str) -> bytes:
    return f"guardia-audit-head:{seq}:{digest}".encode()


def write_head(data_dir: Path, seq: int, digest: str, key: Ed25519PrivateKey) -> None:
    """Record the chain's head, unless the file already names a later one."""
    path = data_dir / HEAD_FILE
    with open(data_dir / (HEAD_FILE + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = orjson.loads(path.read_bytes())
            if int(current.get("seq", 0)) >= seq:
                return
        except (OSError, orjson.JSONDecodeError, ValueError):
            pass
        body = {
            "seq": seq,
            "hash": digest,
            "signature": base64.b64encode(key.sign(_message(seq, digest))).decode(),
        }
        partial = path.with_suffix(".tmp")
        partial.write_bytes(orjson.dumps(body))
        os.replace(partial, path)


def read_head(data_dir: Path, public_key: Ed25519PublicKey) -> SignedHead | None:
    """The signed head, None if the hub never wrote one; ValueError if it is not genuine."""
    path = data_dir / HEAD_FILE
    if not path.exists():
        return None
    try:
        body = orjson.loads(path.read_bytes())
        seq, digest = int(body["seq"]), str(body["hash"])
        public_key.verify(base64.b64decode(body["signature"]), _message(seq, digest))
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a signed audit head: {exc}") from None
    except InvalidSignature:
        raise ValueError(f"{path}: the signature does not verify with the hub's key") from None
    return SignedHead(seq, digest)
