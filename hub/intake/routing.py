"""Where a signal belongs: the CMDB node it names, and the room that covers that node.

The node is found by `asset_code` first, then by host or IP (an `instance` label's host,
`serverIp`, `serverName`), compared case-insensitively with the nodes' hosts and asset codes.
Several nodes on one host: the one running the signal's service, else the first by asset
code. The room is the one whose scope covers the node's system most closely: `INST/SYS`, then
`INST`; the integration's own (`guardia integration add --room`) wins when its scope covers
the node too. Never an unscoped room for a node's alert: anyone may join one, and a card
tells of a system and offers its actions (a command is bounded by its room's scope). A
host the CMDB does not know is not guessed at: it is ignored.

Pure: a `Directory` is built from the CMDB index and the rooms (the service keeps one for a
couple of seconds, like the command pipeline's CMDB snapshot), so a storm of alerts costs
no reads to route.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cmdb.index import CmdbIndex
from hub.intake.signals import Signal


@dataclass(frozen=True)
class Route:
    room_id: str
    node: str | None = None
    system: str | None = None
    institution: str | None = None


@dataclass(frozen=True)
class Ignored:
    reason: str


@dataclass(frozen=True)
class Place:
    """A node as routing needs it."""

    asset_code: str
    host: str
    system: str
    institution: str
    services: tuple[str, ...]


class Directory:
    """Nodes by asset code and by host, and rooms by scope."""

    def __init__(self, places: Iterable[Place], rooms: Iterable[tuple[str, str | None]]) -> None:
        self._by_name: dict[str, list[Place]] = {}
        for place in sorted(places, key=lambda p: p.asset_code):
            for name in {place.asset_code.lower(), place.host.lower()}:
                self._by_name.setdefault(name, []).append(place)
        self._rooms: dict[str | None, list[str]] = {}
        self._scope_of: dict[str, str | None] = {}
        for room_id, scope in sorted(rooms, key=lambda r: r[0]):
            self._rooms.setdefault(scope, []).append(room_id)
            self._scope_of[room_id] = scope

    @classmethod
    def of(cls, index: CmdbIndex, rooms: Iterable[tuple[str, str | None]]) -> Directory:
        places = [
            Place(node.asset_code, node.host, entry.code, entry.institution_code, node.services)
            for entry in index.systems
            for node in entry.nodes
        ]
        return cls(places, rooms)

    def find_node(self, signal: Signal) -> Place | None:
        """The node a signal names, or None."""
        if signal.asset_code:
            exact = [
                p
                for p in self._by_name.get(signal.asset_code.lower(), [])
                if p.asset_code.lower() == signal.asset_code.lower()
            ]
            if exact:
                return exact[0]
        for host in signal.hosts:  # the most telling name first
            found = self._by_name.get(host.lower())
            if found:
                serving = [p for p in found if signal.service and signal.service in p.services]
                return (serving or found)[0]
        return None

    def covers(self, room_id: str, institution: str, system: str) -> bool:
        scope = self._scope_of.get(room_id)
        return scope in (institution, f"{institution}/{system}")

    def room_for(self, institution: str, system: str) -> str | None:
        """The room whose scope covers a system most closely (INST/SYS, then INST)."""
        for scope in (f"{institution}/{system}", institution):
            rooms = self._rooms.get(scope)
            if rooms:
                return rooms[0]
        return None


def route(directory: Directory, signal: Signal, integration_room: str | None) -> Route | Ignored:
    place = directory.find_node(signal)
    if place is None:
        if signal.asset_code or signal.hosts:
            hint = signal.asset_code or ", ".join(signal.hosts)
            return Ignored(f"no CMDB node has host or asset code {hint}")
        if integration_room is None:
            return Ignored("the alert names no host and its integration has no room")
        return Route(room_id=integration_room)
    if integration_room is not None and directory.covers(
        integration_room, place.institution, place.system
    ):
        room: str | None = integration_room
    else:
        room = directory.room_for(place.institution, place.system)
    if room is None:
        return Ignored(f"no room covers {place.institution}/{place.system} ({place.asset_code})")
    return Route(
        room_id=room, node=place.asset_code, system=place.system, institution=place.institution
    )
