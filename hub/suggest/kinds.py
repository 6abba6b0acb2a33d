"""The symptom kinds the bot watches for, and the read-only diagnostic each one offers.

One table: a kind's intent (operations.md's plan intents) fixes its action through the
parser's own ACTION_SEQUENCES, so a suggestion runs exactly what the typed command would.
Every intent here is read-only: a suggestion never proposes a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from hub.parser.plan import ACTION_SEQUENCES, CHANGE_INTENTS, Action, Intent

Kind = Literal["db_delay", "disk_full", "service_down", "log_errors"]
#: the class of ordinary chat in the exemplar collection
NONE_CLASS = "none"


@dataclass(frozen=True, slots=True)
class SymptomKind:
    """A symptom: the plan intent that diagnoses it and the action its button runs."""

    kind: Kind
    intent: Intent

    @property
    def action(self) -> Action:
        return ACTION_SEQUENCES[self.intent][0]


KINDS: Mapping[Kind, SymptomKind] = MappingProxyType(
    {
        "db_delay": SymptomKind("db_delay", "DB_LOCK_CHECK"),
        "disk_full": SymptomKind("disk_full", "DISK_CHECK"),
        "service_down": SymptomKind("service_down", "STATUS"),
        "log_errors": SymptomKind("log_errors", "LOG_TAIL"),
    }
)
KIND_NAMES: tuple[Kind, ...] = tuple(KINDS)
#: every class the semantic layer scores: the kinds and `none`
CLASSES: tuple[str, ...] = (*KIND_NAMES, NONE_CLASS)

assert not any(k.intent in CHANGE_INTENTS for k in KINDS.values()), "suggestions are read-only"
