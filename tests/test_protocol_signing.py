"""Ed25519 task signatures: what the hub signs, the agent can check; nothing else passes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import SignatureError, TaskAssign, TaskStep
from protocol.signing import (
    generate_private_key,
    load_private_key,
    load_public_key,
    normalize_fingerprint,
    private_key_to_pem,
    public_key_fingerprint,
    public_key_to_pem,
    sign_task,
    verify_task,
)


def task() -> TaskAssign:
    return TaskAssign(
        task_id="T1",
        agent_id="mof-agent-01",
        room_id="ops",
        requested_by="alice",
        approved_by=["bob"],
        deadline="2026-05-23T19:30:00Z",
        steps=[TaskStep(action="RESTART_SERVICE", node="N1", params={"service": "tomcat"})],
    )


def test_signed_task_verifies_with_the_public_key() -> None:
    key = generate_private_key()
    verify_task(sign_task(task(), key), key.public_key())


@pytest.mark.parametrize(
    "change",
    [
        {"requested_by": "mallory"},
        {"approved_by": []},
        {"deadline": "2099-01-01T00:00:00Z"},
        {"steps": [TaskStep(action="RESTART_SERVICE", node="N2", params={"service": "tomcat"})]},
        {"task_id": "T2"},
        {"agent_id": "mois-agent-01"},
        {"agent_id": None},
        {"room_id": "lobby"},
    ],
    ids=["requester", "approvers", "deadline", "steps", "task id", "agent", "no agent", "room"],
)
def test_any_change_to_a_signed_field_breaks_the_signature(change: dict[str, object]) -> None:
    key = generate_private_key()
    forged = sign_task(task(), key).model_copy(update=change)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_task(forged, key.public_key())


def test_signature_by_another_key_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify_task(sign_task(task(), generate_private_key()), generate_private_key().public_key())


@pytest.mark.parametrize(("signature", "words"), [(None, "not signed"), ("%%%", "malformed")])
def test_missing_or_malformed_signature(signature: str | None, words: str) -> None:
    with pytest.raises(SignatureError, match=words):
        verify_task(
            task().model_copy(update={"signature": signature}), generate_private_key().public_key()
        )


def test_keys_survive_pem_round_trip() -> None:
    key = generate_private_key()
    again = load_private_key(private_key_to_pem(key))
    public = load_public_key(public_key_to_pem(key.public_key()))
    verify_task(sign_task(task(), again), public)


#: RFC 8032 section 7.1, test 1: a published Ed25519 key pair, so the fingerprint is pinned
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def test_fingerprint_is_sha256_of_the_raw_key_in_unpadded_base64() -> None:
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET).public_key()
    expected = base64.b64encode(hashlib.sha256(RFC8032_PUBLIC).digest()).decode().rstrip("=")
    assert public_key_fingerprint(key) == f"SHA256:{expected}"
    assert len(expected) == 43
    again = load_public_key(public_key_to_pem(key))
    assert public_key_fingerprint(again) == public_key_fingerprint(key)
    assert public_key_fingerprint(generate_private_key().public_key()) != f"SHA256:{expected}"


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("SHA256:" + "A" * 43, True),
        ("  SHA256:" + "A" * 43 + "=\n", True),
        ("SHA256:" + "A" * 42, False),
        ("sha256:" + "A" * 43, False),
        ("MD5:" + "A" * 43, False),
        ("A" * 43, False),
        ("SHA256:" + "A" * 42 + "!", False),
    ],
)
def test_typed_fingerprints_are_normalized_or_refused(typed: str, ok: bool) -> None:
    if ok:
        assert normalize_fingerprint(typed) == "SHA256:" + "A" * 43
    else:
        with pytest.raises(SignatureError, match="not a key fingerprint"):
            normalize_fingerprint(typed)
