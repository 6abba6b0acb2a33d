"""The hub's public key, pinned on this machine: every task must verify with it.

An agent without one refuses to start (issue 17.11): whoever answered at the hub's address
could otherwise send it unsigned or forged tasks. `guardia-agent enroll` fetches the key once
and pins it here; a different key is never pinned over it without `--force`.

Where: agent.yaml's `hub_public_key`, else `agent-<id>.hub.pub` beside the outbox.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.config import AgentConfig
from agent.exceptions import EnrollmentError
from protocol import SignatureError
from protocol.signing import load_public_key, public_key_fingerprint, public_key_to_pem


def outbox_path(config: AgentConfig, agent_id: str) -> Path:
    """agent.yaml's `outbox`, else ~/.guardia/agent-<id>.outbox.sqlite."""
    return config.outbox or Path.home() / ".guardia" / f"agent-{agent_id}.outbox.sqlite"


def hub_key_path(config: AgentConfig, agent_id: str) -> Path:
    """agent.yaml's `hub_public_key`, else agent-<id>.hub.pub beside the outbox."""
    if config.hub_public_key is not None:
        return config.hub_public_key
    return outbox_path(config, agent_id).with_name(f"agent-{agent_id}.hub.pub")


def enroll_hint(agent_id: str) -> str:
    return (
        f"enroll first: GUARDIA_AGENT_TOKEN=... guardia-agent enroll --hub URL --id {agent_id} "
        "--expect-fingerprint SHA256:... (the fingerprint `guardia agent add` printed), "
        "or copy the hub's hub.pub there"
    )


def load_pinned_key(path: Path, agent_id: str) -> Ed25519PublicKey:
    """The pinned key; EnrollmentError saying how to get one when there is none."""
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise EnrollmentError(
            f"no hub public key at {path}: the agent checks every task's signature with it "
            f"and does not start without one; {enroll_hint(agent_id)}"
        ) from None
    except OSError as exc:
        raise EnrollmentError(f"cannot read the hub public key {path}: {exc.strerror}") from None
    try:
        return load_public_key(pem)
    except (SignatureError, ValueError) as exc:
        raise EnrollmentError(
            f"{path} is not an Ed25519 public key in PEM ({exc}); enroll again with --force"
        ) from None


@dataclass(frozen=True)
class Pinned:
    path: Path
    fingerprint: str
    #: False when this very key was pinned already
    changed: bool


def pin_key(path: Path, key: Ed25519PublicKey, *, force: bool = False) -> Pinned:
    """Write `key` to `path` (0644, atomically); refuse to replace a different key unless
    `force`."""
    fingerprint = public_key_fingerprint(key)
    if path.exists():
        current = _fingerprint_of(path)
        if current == fingerprint:
            return Pinned(path, fingerprint, changed=False)
        if not force:
            raise EnrollmentError(
                f"{path} already pins a different hub key ({current or 'unreadable'}); the hub "
                f"now offers {fingerprint}. Nothing was changed. If the hub's key really "
                "changed (a new hub, a lost data directory), confirm the new fingerprint with "
                "the hub's admin and enroll again with --force"
            )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(public_key_to_pem(key))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(partial, 0o644)  # whatever the umask: the key is public
            os.replace(partial, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    except OSError as exc:
        raise EnrollmentError(f"cannot write the hub key to {path}: {exc.strerror}") from None
    return Pinned(path, fingerprint, changed=True)


def _fingerprint_of(path: Path) -> str | None:
    try:
        return public_key_fingerprint(load_public_key(path.read_bytes()))
    except (OSError, SignatureError, ValueError):
        return None
