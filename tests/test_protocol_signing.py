"""Ed25519 task signatures: what the hub signs, the agent can check; nothing else passes."""

from __future__ import annotations

import pytest

from protocol import SignatureError, TaskAssign, TaskStep
from protocol.signing import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
    sign_task,
    verify_task,
)


def task() -> TaskAssign:
    return TaskAssign(
        task_id="T1",
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
    ],
    ids=["requester", "approvers", "deadline", "steps", "task id"],
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
