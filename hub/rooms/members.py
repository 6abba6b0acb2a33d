"""Who is in which room on this hub, and delivery of stored frames to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from hub.wire.connection import Connection


class RoomMembers:
    def __init__(self, on_empty: Callable[[str], None] = lambda room_id: None) -> None:
        self._members: dict[str, set[Connection]] = defaultdict(set)
        self._on_empty = on_empty

    def join(self, room_id: str, conn: Connection) -> None:
        self._members[room_id].add(conn)

    def leave(self, room_id: str, conn: Connection) -> None:
        members = self._members.get(room_id)
        if members is not None:
            members.discard(conn)
            if not members:
                del self._members[room_id]
                self._on_empty(room_id)
        conn.cursors.pop(room_id, None)
        conn.replaying.pop(room_id, None)

    def leave_all(self, conn: Connection) -> None:
        for room_id in list(conn.cursors) + list(conn.replaying):
            self.leave(room_id, conn)

    def is_member(self, room_id: str, conn: Connection) -> bool:
        return conn in self._members.get(room_id, ())

    def count(self, room_id: str) -> int:
        return len(self._members.get(room_id, ()))

    def room_broadcast(self, room_id: str, seq: int, frame: str) -> None:
        """Deliver one encoded frame to every member; a full queue drops only its owner."""
        members = self._members.get(room_id)
        if not members:
            return
        dropped = []
        for conn in members:
            conn.deliver(room_id, seq, frame)
            if conn.closed:
                dropped.append(conn)
        for conn in dropped:
            self.leave(room_id, conn)
