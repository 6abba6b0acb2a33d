"""A symptom to the read-only plan the bot offers: the parser's names, its target rules.

Which system: the one the sentence names (the built-in parser's own name resolution, so
any CMDB works), else the room's scope. The sentence wins where it names something; the
scope fills in what it leaves open (an institution named, the room's system of it; a
name two institutions share, the room's institution's). When neither names one system the
plan says `system_name: "UNKNOWN"` (with the institution when one is known),
`needs_clarification: true`, and a question; `choices` lists the systems to offer.

Targets are the parser's target rules (hub/parser/grounding.py `plan_from_reading`): DB
nodes for DB_LOCK_CHECK, every node (or the layer the sentence names) for STATUS and
DISK_CHECK. LOG_TAIL is the one difference: a typed 'tail the logs' with no server named is
asked back, but a suggestion should be pressable at once, so with no layer or node named it
targets the system's WAS nodes (where application errors are logged), else its WEB nodes,
else its DB nodes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from cmdb.index import CmdbIndex, SystemEntry
from hub.parser import builtin_parser
from hub.parser.builtin import MAX_COMMAND_CHARS
from hub.parser.grounding import Reading, plan_from_reading, system_label
from hub.parser.plan import UNKNOWN, Layer, Plan
from hub.suggest.kinds import SymptomKind
from hub.suggest.scope import Scope
from hub.suggest.text import MAX_TEXT_CHARS, language_of

#: the layers a suggested LOG_TAIL looks at first, when the sentence names none
_LOG_LAYERS: tuple[Layer, ...] = ("WAS", "WEB", "DB")


@dataclass(frozen=True, slots=True)
class Grounded:
    plan: Plan
    #: system codes to offer as buttons when the plan asks which system; else empty
    choices: tuple[str, ...]


def _scope_entry(scope: Scope | None, index: CmdbIndex) -> tuple[str | None, SystemEntry | None]:
    """The scope's institution and system, as far as the CMDB has them."""
    if scope is None or index.institution(scope.institution) is None:
        return None, None
    entry = index.system(scope.system) if scope.system else None
    if entry is not None and entry.institution_code != scope.institution:
        entry = None
    return scope.institution, entry


def _with_scope(reading: Reading, scope: Scope | None, index: CmdbIndex) -> Reading:
    """What the room's scope adds to what the sentence named."""
    institution, entry = _scope_entry(scope, index)
    if institution is None:
        return reading
    issue = reading.issue
    if issue is not None and issue.kind == "ambiguous_system":
        inside = index.find_systems(issue.subject, institution)
        if len(inside) == 1:
            return replace(
                reading,
                institution=institution,
                system=inside[0].code,
                issue=None,
                extra_choices=(),
            )
        return reading
    if issue is not None and issue.kind == "unknown_system" and reading.institution is None:
        # a system the CMDB lacks, said in this institution's room: ask among its systems
        return replace(reading, institution=institution)
    if not reading.named:
        return replace(
            reading, institution=institution, system=entry.code if entry else None, named=True
        )
    if reading.system is None and issue is None and reading.institution == institution:
        return replace(reading, system=entry.code if entry else None)
    return reading


def _log_layers(reading: Reading, index: CmdbIndex) -> tuple[Layer, ...]:
    if reading.layers or reading.nodes or reading.numbers or reading.system is None:
        return reading.layers
    entry = index.system(reading.system)
    if entry is None:
        return reading.layers
    for layer in _LOG_LAYERS:
        if entry.layers[layer]:
            return (layer,)
    return reading.layers


def _choices(plan: Plan, reading: Reading, index: CmdbIndex) -> tuple[str, ...]:
    if plan.system_name != UNKNOWN:
        return ()
    if reading.issue is not None and reading.issue.kind == "ambiguous_system":
        named = index.find_systems(reading.issue.subject)
        if named:
            return tuple(entry.code for entry in named)
    if plan.institution != UNKNOWN:
        return tuple(entry.code for entry in index.systems_of(plan.institution))
    return tuple(entry.code for entry in index.systems)


def _which_system(korean: bool, choices: tuple[str, ...], index: CmdbIndex) -> str:
    labels = []
    for code in choices:
        entry = index.system(code)
        if entry is not None:
            labels.append(f"{entry.institution.name} {system_label(entry)}")
    shown = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
    return f"어느 시스템인가요? {shown}" if korean else f"Which system? {shown}"


def ground(kind: SymptomKind, text: str, scope: Scope | None, index: CmdbIndex) -> Grounded:
    """The plan the bot would offer for `kind` seen in `text`, in a room of `scope`."""
    # NFKC first, then cut: the parser refuses what compatibility characters expand past it
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])[:MAX_COMMAND_CHARS]
    read = builtin_parser(index).read(text)
    reading = _with_scope(read, scope, index)
    reading = replace(reading, intent=kind.intent, korean=language_of(text) == "ko")
    if kind.intent == "LOG_TAIL":
        reading = replace(reading, layers=_log_layers(reading, index))
    elif kind.intent == "DB_LOCK_CHECK":
        reading = replace(reading, layers=("DB",))  # the parser's rules target DB nodes
    plan = plan_from_reading(reading, index)
    choices = _choices(plan, reading, index)
    if plan.system_name == UNKNOWN and not reading.named:
        # nothing named anywhere: the parser's 'could not find that system' would mislead
        plan = plan.model_copy(update={"question": _which_system(reading.korean, choices, index)})
    return Grounded(plan, choices)
