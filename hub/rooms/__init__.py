"""The room log: who is in which room, and every stored frame reaching them once, in order.

Owns: `RoomMembers` (membership and fan-out on this hub), `RoomWriter` (stores frames in
batches, assigns seq, then broadcasts), `RoomSequencer` (seq order across hubs, gaps filled
from the database), `BotVoice` (how the bot posts: `post`, `say`, `refuse`).
May import: hub.wire (Connection), cmdb, protocol, the hub's foundation modules.
"""
