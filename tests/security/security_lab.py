"""What the attack suite's modules import (conftest.py holds the fixtures)."""

from __future__ import annotations

from typing import Any

import pytest
from harness import ChatClient

#: one lab per module: a module that uses `seclab` runs in the module's event loop
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")


def button(frame: dict[str, Any], code: str) -> str:
    """The action_id of the button with this command_code on a bot frame."""
    [found] = [b for b in frame["interactive_actions"] if b["command_code"] == code]
    return str(found["action_id"])


async def ask(client: ChatClient, text: str, room: str = "lab") -> str:
    return await client.send(msg_type="CHAT", room_id=room, content=f"@guardia {text}")


async def press_id(client: ChatClient, action_id: str, room: str = "lab") -> str:
    return await client.send(msg_type="ACTION", room_id=room, action_id=action_id)


async def drain(client: ChatClient, quiet: float) -> None:
    """Read (into client.seen) until nothing has come for `quiet` seconds."""
    while True:
        try:
            await client.recv(timeout=quiet)
        except TimeoutError:
            return
