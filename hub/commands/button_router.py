"""A button press to the handler its owner registered for the button's command_code.

Owners register their own codes (approvals: APPROVE/REJECT; the pipeline: CLARIFY and
CANCEL_TASK; the bot: its read-only checks), so nothing needs to know every kind of button.
Two owners may share a code when their buttons differ by a parameter: one registers with
`owner_param`, and a button whose params carry that key goes to it (the proactive bot's
CHECK_DISK_SPACE carries `suggestion`; `ping`'s does not).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cmdb.accounts import Identity
from cmdb.tables import ButtonRecord
from hub.audit.log import AuditLog
from hub.commands.buttons import ButtonStore
from hub.exceptions import Forbidden, UnknownAction
from hub.rooms.directory import RoomDirectory

ButtonHandler = Callable[[Identity, ButtonRecord, str], Awaitable[None]]


class ButtonRouter:
    def __init__(self, buttons: ButtonStore, rooms: RoomDirectory, audit: AuditLog) -> None:
        self._buttons = buttons
        self._rooms = rooms
        self._audit = audit
        self._handlers: dict[tuple[str, str | None], ButtonHandler] = {}

    def register(
        self, command_code: str, handler: ButtonHandler, owner_param: str | None = None
    ) -> None:
        key = (command_code, owner_param)
        if key in self._handlers:
            raise ValueError(f"a handler for {command_code} is already registered")
        self._handlers[key] = handler

    def _handler(self, record: ButtonRecord) -> ButtonHandler | None:
        for (code, param), handler in self._handlers.items():
            if code == record.command_code and param is not None and param in record.params:
                return handler
        return self._handlers.get((record.command_code, None))

    async def press(self, identity: Identity, room_id: str, action_id: str, lang: str) -> None:
        """Run what a button does, if it may still be pressed here; refusals are audited."""
        record = await self._buttons.lookup(room_id, action_id, lang)
        handler = self._handler(record)
        if handler is None:
            raise UnknownAction(f"unknown command {record.command_code}")
        try:
            await handler(identity, record, lang)
        except Forbidden as exc:
            room = await self._rooms.get(room_id)
            await self._audit.append(
                identity.name,
                "refused",
                {"button": record.command_code, "reason": exc.message, "room": room_id},
                record.task_id,
                None if room is None else room.scope,
            )
            raise
