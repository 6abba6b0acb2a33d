"""Frames to messages and back: orjson, one JSON object per text frame.

`decode` turns untrusted bytes into a validated message or raises a ProtocolError whose code
says what class of wrong it was; `encode` is called once per message, never per recipient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from protocol.codes import DEFAULT_MAX_FRAME_BYTES, PROTOCOL_VERSION
from protocol.exceptions import BadFrame, BadJson, FrameTooLarge
from protocol.messages import Message
from protocol.tables import ALL_TYPES


def encode(message: Message) -> str:
    """The text frame for a message (a str: websockets sends bytes as a binary frame)."""
    return orjson.dumps(message.model_dump(mode="json")).decode()


def encode_dict(frame: Mapping[str, Any]) -> str:
    return orjson.dumps(frame).decode()


def decode_object(data: str | bytes, *, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> dict[str, Any]:
    """Parse a frame into a JSON object, without checking it against any message type."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > max_bytes:
        raise FrameTooLarge(f"frame of {size} bytes is over the limit of {max_bytes} bytes")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadJson(f"frame is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadJson(f"frame must be a JSON object, got {type(obj).__name__}")
    return obj


def decode(
    data: str | bytes,
    types: Mapping[str, type[Message]] = ALL_TYPES,
    *,
    max_bytes: int = DEFAULT_MAX_FRAME_BYTES,
) -> Message:
    """Validate a frame against the message types one side may send.

    Raises FrameTooLarge, BadJson or BadFrame; `ref` carries the frame's message_id when it
    had a readable one, so the error can point at it.
    """
    obj = decode_object(data, max_bytes=max_bytes)
    return from_object(obj, types)


def from_object(obj: dict[str, Any], types: Mapping[str, type[Message]] = ALL_TYPES) -> Message:
    ref = obj.get("message_id")
    ref = ref if isinstance(ref, str) else None
    msg_type = obj.get("msg_type")
    if not isinstance(msg_type, str):
        raise BadFrame("frame has no msg_type string", ref=ref)
    model = types.get(msg_type)
    if model is None:
        raise BadFrame(f"unknown msg_type {msg_type!r} here", ref=ref)
    if "v" in obj and obj["v"] != PROTOCOL_VERSION:
        raise BadFrame(f"unsupported protocol version {obj['v']!r}", ref=ref)
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise BadFrame(f"invalid {msg_type}: {describe_validation_error(exc)}", ref=ref) from None


def describe_validation_error(exc: ValidationError) -> str:
    """A short, human-readable account of what a frame got wrong (first few problems)."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "frame"
        parts.append(f"{where}: {err['msg'].lower()}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
