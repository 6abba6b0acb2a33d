"""/ws/chat: people and bots. Decode, dispatch through a table, answer."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket

from cmdb.accounts import Identity, may_join
from cmdb.message_log import MAX_PAGE, replay
from cmdb.tables import Room
from hub.bot.replies import addressed_text
from hub.commands.room_scope import room_covers
from hub.exceptions import BadFrame, Forbidden, HubError, NotInRoom, UnknownRoom
from hub.i18n import lang_of, pick
from hub.ops import metrics
from hub.state import SERVER_VERSION, HubState
from hub.wire.connection import Connection
from hub.wire.handshake import open_connection
from protocol import (
    CHAT_CLIENT_TYPES,
    Action,
    Chat,
    CloseCode,
    Error,
    ErrorCode,
    Feedback,
    Hello,
    Join,
    Joined,
    Leave,
    Message,
    Pong,
    ProtocolError,
    decode,
    encode,
)

log = logging.getLogger("guardia.hub.chat")

Handler = Callable[[Message], Awaitable[None]]
#: a sender's messages that may wait to be stored at once (they share a commit)
MAX_UNSTORED = 16
#: what one page of replay (cmdb.message_log.MAX_PAGE frames) costs from the rate budget
REPLAY_PAGE_COST = 10.0


class ChatSession:
    """One authenticated /ws/chat socket: what its frames do."""

    def __init__(self, state: HubState, conn: Connection) -> None:
        self.state = state
        self.conn = conn
        self.identity: Identity = conn.identity
        self.lang = "en"
        self._unstored: deque[asyncio.Future[Message]] = deque()
        # integrations (bot tokens) post in bulk; people do not. One budget per principal:
        # opening more sockets buys no more frames
        scale = 10.0 if self.identity.is_bot else 1.0
        self.bucket = state.peers.budget(
            conn, state.settings.rate_per_second * scale, state.settings.rate_burst * scale
        )
        self._handlers: dict[str, Handler] = {
            "JOIN": self.on_join,
            "LEAVE": self.on_leave,
            "CHAT": self.on_chat,
            "ACTION": self.on_action,
            "FEEDBACK": self.on_feedback,
            "PING": self.on_ping,
            "PONG": self.on_ignore,
            "AUTH": self.on_ignore,
        }

    def error(self, code: ErrorCode, message: str, ref: str | None) -> None:
        self.conn.send(encode(Error(code=code, message=message, ref=ref, sender_type="SYSTEM")))

    async def on_frame(self, text: str) -> None:
        if not self.bucket.take():
            metrics.rate_limited("user")
            if self.bucket.abusive:
                self.conn.close(CloseCode.RATE_LIMITED, "rate limit exceeded")
            else:
                self.error(
                    ErrorCode.RATE_LIMITED,
                    pick(
                        self.lang,
                        "메시지를 너무 빨리 보내고 있습니다. 잠시 후 다시 보내 주세요.",
                        "You are sending too fast; this frame was dropped. Slow down.",
                    ),
                    None,
                )
            return
        try:
            msg = decode(text, CHAT_CLIENT_TYPES, max_bytes=self.state.settings.max_frame_bytes)
        except ProtocolError as exc:
            self.error(exc.code, exc.message, exc.ref)
            return
        try:
            await self._handlers[msg.msg_type](msg)
        except HubError as exc:
            self.error(exc.code, exc.message, msg.message_id)
        except Exception:
            log.exception("handling %s from %s failed", msg.msg_type, self.identity.name)
            self.error(ErrorCode.INTERNAL, "internal error; it has been logged", msg.message_id)

    def on_binary(self) -> None:
        self.conn.close(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported")

    async def on_ping(self, msg: Message) -> None:
        self.conn.send(encode(Pong()))

    async def on_ignore(self, msg: Message) -> None:
        return None

    async def _room(self, room_id: str, *, fresh: bool = False) -> Room:
        if fresh:  # the seq to start from must not be a moment old
            async with self.state.sessions() as session:
                room = await session.get(Room, room_id)
        else:
            room = await self.state.rooms.get(room_id)
        if room is None:
            raise UnknownRoom(
                pick(self.lang, f"방 {room_id}이(가) 없습니다.", f"No room {room_id}.")
            )
        return room

    async def on_join(self, msg: Message) -> None:
        assert isinstance(msg, Join)
        room = await self._room(msg.room_id)
        if not may_join(self.identity, room):
            raise Forbidden(
                pick(
                    self.lang,
                    f"{room.id} 방({room.scope})에 들어갈 권한이 없습니다.",
                    f"You have no role in the scope of room {room.id} ({room.scope}).",
                )
            )
        conn = self.conn
        # live frames wait in `replaying` until the replay is out: none lost, none twice
        conn.replaying[room.id] = []
        cursor = 0
        try:
            self.state.members.join(room.id, conn)
            room = await self._room(room.id, fresh=True)
            self.state.sequencer.start_at(room.id, room.last_seq)
            votes = await self.state.feedback.votes(self.identity.name, room.id)
            conn.send(encode(Joined(room_id=room.id, last_seq=room.last_seq, feedback=votes)))
            cursor = room.last_seq if msg.after_seq is None else min(msg.after_seq, room.last_seq)
            if msg.after_seq is not None:
                cursor = await self._replay(room.id, cursor)
        finally:
            pending = conn.replaying.pop(room.id, [])
        conn.cursors[room.id] = cursor
        for seq, frame in pending:
            conn.deliver(room.id, seq, frame)

    async def _replay(self, room_id: str, cursor: int) -> int:
        """Send the stored frames after `cursor`, page by page; returns the last seq sent.

        Each page is paid for from the sender's rate budget and waits when it is spent, so
        that a JOIN cannot be an amplifier (a few bytes in, the whole history out).
        """
        conn = self.conn
        while not conn.closed:
            delay = self.bucket.wait_for(REPLAY_PAGE_COST)
            if delay > 0:
                await asyncio.sleep(delay)
            self.bucket.charge(REPLAY_PAGE_COST)
            async with self.state.sessions() as session:
                frames = await replay(session, room_id, cursor)
            for frame in frames:
                conn.send(frame)
            cursor += len(frames)
            if len(frames) < MAX_PAGE:
                break
            await conn.drained()
        return cursor

    async def on_leave(self, msg: Message) -> None:
        assert isinstance(msg, Leave)
        self.state.members.leave(msg.room_id, self.conn)

    def _require_member(self, room_id: str) -> None:
        if not self.state.members.is_member(room_id, self.conn):
            raise NotInRoom(
                pick(
                    self.lang,
                    f"먼저 {room_id} 방에 JOIN 하세요.",
                    f"Join room {room_id} first.",
                )
            )

    async def on_chat(self, msg: Message) -> None:
        assert isinstance(msg, Chat)
        self._require_member(msg.room_id)
        self.lang = lang_of(msg.content)
        await self._check_itsm(msg)
        stored = Chat(
            room_id=msg.room_id,
            content=msg.content,
            itsm_metadata=msg.itsm_metadata,
            sender=self.identity.name,  # from the token, whatever the client wrote
            sender_type="BOT" if self.identity.is_bot else "HUMAN",
        )
        stored_future = self.state.writer.submit(stored)
        stored_future.add_done_callback(lambda f: self._store_failed(f, msg.message_id))
        await self._pace(stored_future)
        command = addressed_text(msg.content)
        if command is not None:
            self.state.bot.spawn(self._command_after(stored_future, command, msg))
        else:  # ordinary chat: the proactive bot reads it once it is stored, off this path
            self.state.proactive.heard(stored_future, self.identity, msg.room_id)

    async def _check_itsm(self, msg: Chat) -> None:
        """Client ITSM metadata is stored for everyone: its asset must be real and in the room."""
        asset = msg.itsm_metadata.asset_code if msg.itsm_metadata else None
        if asset is None:
            return
        room = await self._room(msg.room_id)
        index = await self.state.cmdb.index()
        system = index.system_of(asset)
        if system is None or not room_covers(room, system.institution_code, system.code):
            raise BadFrame(
                pick(
                    self.lang,
                    f"itsm_metadata.asset_code: 이 방의 자산이 아닙니다: {asset}",
                    f"itsm_metadata.asset_code: {asset} is not an asset of this room",
                )
            )

    async def _pace(self, future: asyncio.Future[Message]) -> None:
        """Let a few messages be stored together, but make a sender that outruns the
        database wait for it: backpressure on the sender, not drops for the readers."""
        pending = self._unstored
        pending.append(future)
        while pending and pending[0].done():
            pending.popleft()
        if len(pending) > MAX_UNSTORED:
            await asyncio.wait([pending.popleft()])

    def _store_failed(self, future: asyncio.Future[Message], ref: str) -> None:
        if not future.cancelled() and future.exception() is not None:
            self.error(ErrorCode.INTERNAL, "the message could not be stored; send it again", ref)

    async def _command_after(
        self, stored: asyncio.Future[Message], command: str, msg: Chat
    ) -> None:
        """The bot answers once the command itself is in the room, so it always comes first."""
        try:
            await stored
        except Exception:
            return  # the sender was told by _store_failed
        await self.state.bot.on_command(self.identity, msg.room_id, command, msg.message_id)

    async def on_action(self, msg: Message) -> None:
        assert isinstance(msg, Action)
        self._require_member(msg.room_id)
        await self.state.bot.on_action(self.identity, msg.room_id, msg.action_id, self.lang)

    async def on_feedback(self, msg: Message) -> None:
        """Thumbs on a bot card: stored, and nothing said (the voter's own votes come back
        to them on JOINED)."""
        assert isinstance(msg, Feedback)
        self._require_member(msg.room_id)
        await self.state.feedback.record(
            self.identity, msg.room_id, msg.target_message_id, msg.helpful, self.lang
        )


async def chat_endpoint(websocket: WebSocket) -> None:
    state: HubState = websocket.app.state.hub
    conn = await open_connection(websocket, state.sessions, state.settings, "user")
    if conn is None:
        return
    session = ChatSession(state, conn)
    conn.send(
        encode(
            Hello(
                session_id=conn.session_id,
                user=conn.identity.name,
                roles=conn.identity.roles,
                server_version=SERVER_VERSION,
                sender="GUARDiA-Bot",
                sender_type="SYSTEM",
            )
        )
    )
    state.peers.add(conn)
    try:
        await conn.run(session.on_frame, session.on_binary)
    finally:
        state.peers.remove(conn)
        state.members.leave_all(conn)
