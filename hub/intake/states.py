"""The incident lifecycle: every allowed transition in one table.

firing ──► acknowledged ──► resolved
   └───────────────────────────▲
A resolved incident no longer folds repeats: the next alert with its key opens a new one.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


S = IncidentState
TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    S.FIRING: frozenset({S.ACKNOWLEDGED, S.RESOLVED}),
    S.ACKNOWLEDGED: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset(),
}


def sources_of(target: IncidentState) -> list[str]:
    """The states an incident may move to `target` from (for conditional updates)."""
    return [str(state) for state, nxt in TRANSITIONS.items() if target in nxt]
