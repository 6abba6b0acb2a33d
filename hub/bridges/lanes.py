"""Lane names: `BRIDGE:CHANNEL`, one outbound queue each, and what each kind of lane can do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Bridge = Literal["slack", "mattermost", "messenger"]
BRIDGES: tuple[Bridge, ...] = ("slack", "mattermost", "messenger")
#: how a bridge is named to people ("via Slack")
BRIDGE_TITLES: dict[str, str] = {
    "slack": "Slack",
    "mattermost": "Mattermost",
    "messenger": "Webhook",
}


@dataclass(frozen=True)
class LaneKind:
    """What a kind of lane can show: cards updated in place, and other people's chat."""

    updates_in_place: bool
    relays_people: bool


LANE_KINDS: dict[str, LaneKind] = {
    "slack": LaneKind(updates_in_place=True, relays_people=True),
    "mattermost": LaneKind(updates_in_place=True, relays_people=True),
    # a callback URL only takes new posts, and is for the bot's answers
    "messenger": LaneKind(updates_in_place=False, relays_people=False),
}


def lane_of(bridge: str, channel: str) -> str:
    if bridge not in BRIDGES:
        raise ValueError(f"unknown bridge {bridge!r} (one of {', '.join(BRIDGES)})")
    if not channel or len(channel) > 180 or ":" in channel or channel != channel.strip():
        raise ValueError(f"bad {bridge} id {channel!r}")
    return f"{bridge}:{channel}"


def split_lane(lane: str) -> tuple[str, str]:
    bridge, _, channel = lane.partition(":")
    return bridge, channel
