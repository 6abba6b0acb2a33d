"""From what a text was read to say to a plan that is true to the CMDB and to policy.

Both parsers end here. The built-in parser hands over a `Reading` already in CMDB codes; an
LLM's `PlanDraft` is first mapped onto the CMDB (`reading_from_draft`): names it gives are
looked up, never believed, nodes the CMDB lacks are dropped, file names the text does not
contain (or the agent would refuse, protocol/names.py) are dropped. `plan_from_reading` then
applies operations.md's target rules (a layer named: its nodes; nodes named: those; neither:
the intent's default or a question) and recomputes approval, which an LLM may raise but
never lower. `scoped` grounds a text that names no system in the scope of the room it was
said in. A question about which system lists the systems it offers in the plan's
`system_candidates`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cmdb.document import Env
from cmdb.index import CmdbIndex, SystemEntry
from hub.parser.environments import environments_of
from hub.parser.lexicon import QUESTIONS, TARGET_QUESTIONS
from hub.parser.plan import (
    ACTION_SEQUENCES,
    LAYERS,
    UNKNOWN,
    Intent,
    Layer,
    Plan,
    PlanDraft,
    approval_required,
)
from protocol.names import file_name_problem

#: intents that act on every node of a system when the text names neither layer nor node
_ALL_NODES_BY_DEFAULT: frozenset[Intent] = frozenset({"STATUS", "DISK_CHECK"})
#: how many choices a question lists before it stops
_MAX_CHOICES = 8
#: a room's scope: (institution code, system code), either None
Scope = tuple[str | None, str | None]
#: questions about which system: the plan offers the candidates of these
_WHICH_SYSTEM = frozenset(
    {
        "which_system",
        "ambiguous_system",
        "several_systems",
        "which_env",
        "no_such_env",
        "scope_env",
        "partial_name",
        "conflict",
    }
)


@dataclass(frozen=True, slots=True)
class Issue:
    """Why a plan needs a person's answer: a key of lexicon.QUESTIONS and what to fill in."""

    kind: str
    subject: str = ""
    #: the layer the question is about, whose nodes it lists
    layer: Layer | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """What a text says, in CMDB codes, before the target rules and policy are applied."""

    intent: Intent
    korean: bool
    institution: str | None = None
    system: str | None = None
    layers: tuple[Layer, ...] = ()
    nodes: tuple[str, ...] = ()
    #: node numbers: (layer or None when the text gave none, 1-based number)
    numbers: tuple[tuple[Layer | None, int], ...] = ()
    artifacts: tuple[str, ...] = ()
    issue: Issue | None = None
    #: the text named something of the CMDB, so an UNKNOWN intent is worth a question
    named: bool = False
    #: an LLM asked for approval where policy would not: it may raise, never lower
    raise_approval: bool = False
    #: a question an LLM proposed, used when policy has none of its own
    question: str | None = None
    #: what a question should offer, when the reading knows better than the CMDB's lists
    extra_choices: tuple[str, ...] = ()
    #: the systems (codes) a question about which system offers
    candidates: tuple[str, ...] = ()
    #: environments the text says outside any name, and the words it says them with
    envs: frozenset[Env] = frozenset()
    env_words: tuple[str, ...] = ()
    #: the text negates or forbids something: no change plan may come of it (negation.py)
    refused_change: bool = False


def system_label(entry: SystemEntry) -> str:
    return f"{entry.name}({entry.code})"


def _choices(items: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(items[:_MAX_CHOICES])
    return shown + (", ..." if len(items) > _MAX_CHOICES else "")


def _layer_summary(entry: SystemEntry, korean: bool) -> str:
    parts = []
    for layer in LAYERS:
        count = len(entry.layers[layer])
        if count:
            parts.append(f"{layer} {count}대" if korean else f"{layer} x{count}")
    return ", ".join(parts)


def _question(
    issue: Issue,
    reading: Reading,
    index: CmdbIndex,
    entry: SystemEntry | None,
    candidates: tuple[str, ...],
) -> str:
    korean = reading.korean
    kind = issue.kind
    if kind == "unknown_node" and entry is None:
        kind = "unknown_node_anywhere"
    template = QUESTIONS[kind][0 if korean else 1]
    institution = index.institution(reading.institution) if reading.institution else None
    if candidates:
        owners = {e.institution_code for c in candidates if (e := index.system(c))}
        labels = [
            system_label(e) if len(owners) == 1 else f"{e.institution.name} {system_label(e)}"
            for c in candidates
            if (e := index.system(c))
        ]
        choices = _choices(labels)
    elif reading.extra_choices:
        choices = _choices(reading.extra_choices)
    elif entry is not None and issue.layer is not None:
        choices = f"{issue.layer}: " + _choices([n.asset_code for n in entry.layers[issue.layer]])
    elif entry is not None and kind == "unknown_node":
        choices = _choices([node.asset_code for node in entry.nodes])
    elif entry is not None:
        choices = _layer_summary(entry, korean)
    elif institution is not None:
        choices = _choices([system_label(e) for e in index.systems_of(institution.code)])
    else:
        choices = _choices([f"{e.institution.name} {system_label(e)}" for e in index.systems])
    return template.format(
        institution=institution.name if institution else UNKNOWN,
        system=system_label(entry) if entry else UNKNOWN,
        subject=issue.subject or ("그 시스템" if korean else "that system"),
        choices=choices,
        action=TARGET_QUESTIONS[reading.intent][0 if korean else 1],
    ).strip()


def _targets(reading: Reading, entry: SystemEntry) -> tuple[list[str], Layer | None, Issue | None]:
    """Operations.md's target rules, for a system that is known."""
    wanted: set[str] = set(reading.nodes)
    layers = [layer for layer in reading.layers if reading.intent != "DB_LOCK_CHECK"]
    populated = [layer for layer in LAYERS if entry.layers[layer]]
    for layer, number in reading.numbers:
        if layer is None:
            if len(populated) != 1:
                return [], None, Issue("which_layer", f"{number}")
            layer = populated[0]
        nodes = entry.layers[layer]
        if not 1 <= number <= len(nodes):
            return [], layer, Issue("no_such_number", f"{layer} {number}", layer)
        wanted.add(nodes[number - 1].asset_code)
    covered = {node.layer for node in entry.nodes if node.asset_code in wanted}
    for layer in layers:
        if not entry.layers[layer]:
            return [], layer, Issue("no_such_layer", layer)
        if layer not in covered:
            wanted.update(node.asset_code for node in entry.layers[layer])
    if reading.intent == "DB_LOCK_CHECK":
        wanted = {code for code in wanted if code in {n.asset_code for n in entry.layers["DB"]}}
        if not wanted:
            if not entry.layers["DB"]:
                return [], "DB", Issue("no_such_layer", "DB")
            wanted = {node.asset_code for node in entry.layers["DB"]}
    if not wanted:
        if reading.intent in _ALL_NODES_BY_DEFAULT:
            return [node.asset_code for node in entry.nodes], None, None
        return [], None, Issue("which_target")
    targets = [node.asset_code for node in entry.nodes if node.asset_code in wanted]
    target_layers = {node.layer for node in entry.nodes if node.asset_code in wanted}
    layer = target_layers.pop() if len(target_layers) == 1 else None
    return targets, layer, None


def _fitting(index: CmdbIndex, systems: list[str], envs: frozenset[Env]) -> list[str]:
    """The systems in the environments said, or all of them when none is or none fits."""
    if not envs:
        return systems
    env_of = environments_of(index).env_of
    return [c for c in systems if env_of(c) in envs] or systems


def plan_from_reading(reading: Reading, index: CmdbIndex) -> Plan:
    """Apply the target rules and policy to a reading; the result is always a valid plan."""
    intent = reading.intent
    issue = reading.issue
    candidates = reading.candidates
    entry = index.system(reading.system) if reading.system else None
    institution = reading.institution if reading.institution in _codes(index) else None
    if entry is not None:
        institution = entry.institution_code
    elif issue is None and institution is not None and intent != "UNKNOWN":
        systems = index.systems_of(institution)
        env_of = environments_of(index).env_of
        if len(systems) == 1 and (not reading.envs or env_of(systems[0].code) in reading.envs):
            entry = systems[0]
        else:
            issue = Issue("which_system")
            candidates = tuple(_fitting(index, [e.code for e in systems], reading.envs))
    elif issue is None and intent != "UNKNOWN":
        issue = Issue("unknown_system")
    if issue is not None and issue.kind == "conflict" and institution is not None:
        candidates = tuple(e.code for e in index.systems_of(institution))
    named_layer = reading.layers[0] if len(set(reading.layers)) == 1 else None
    targets: list[str] = []
    layer: Layer | None = named_layer
    if intent == "UNKNOWN":
        if reading.named and issue is None:
            issue = Issue("what_to_do")
        targets = []
    elif entry is not None and issue is None:
        targets, layer, issue = _targets(reading, entry)
        if layer is None and not targets and issue is not None:
            layer = named_layer
    artifacts = reading.artifacts if intent == "DEPLOY" else ()
    if intent == "DEPLOY" and not artifacts and issue is None:
        issue = Issue("deploy_file")
    if issue is not None and issue.kind != "deploy_file":
        targets = []
    if entry is not None or issue is None or issue.kind not in _WHICH_SYSTEM:
        candidates = ()
    elif len(candidates) > 1:
        order = {e.code: position for position, e in enumerate(index.systems)}
        candidates = tuple(sorted(candidates, key=lambda code: order.get(code, len(order))))
    owners = {e.institution_code for c in candidates if (e := index.system(c))}
    if institution is None and len(owners) == 1:
        institution = owners.pop()
    envs = index.envs_of(targets)
    approval = approval_required(intent, envs) or (
        reading.raise_approval and intent != "UNKNOWN" and bool(targets)
    )
    question = _question(issue, reading, index, entry, candidates) if issue else reading.question
    if intent == "UNKNOWN" and issue is None:
        question = None
    return Plan(
        intent_type=intent,
        institution=institution or UNKNOWN,
        system_name=entry.code if entry else UNKNOWN,
        infrastructure_layer=layer,
        target_nodes=tuple(targets),
        action_sequence=ACTION_SEQUENCES[intent],
        deploy_artifacts=tuple(artifacts),
        requires_approval=approval,
        needs_clarification=question is not None,
        question=question,
        system_candidates=candidates if question is not None else (),
    )


def scoped(reading: Reading, scope: Scope | None, index: CmdbIndex) -> Reading:
    """The reading grounded in a room's scope, when the text names no system.

    A scope naming a system makes it the system, unless the text names another institution
    or says an environment the system is not in (then the question offers the copies that
    fit). A scope naming only an institution asks which of its systems. A text that names a
    system, or something the CMDB lacks, is left as it is: the text wins over the scope.
    """
    if scope is None or reading.intent == "UNKNOWN" or reading.system is not None:
        return reading
    if reading.candidates or (reading.issue is not None and reading.issue.kind != "unknown_node"):
        return reading
    institution_code, system_code = scope
    entry = index.system(system_code) if system_code else None
    if entry is not None and reading.institution in (None, entry.institution_code):
        envs = environments_of(index)
        if reading.envs and envs.env_of(entry.code) not in reading.envs:
            family = list(envs.family(entry.code))
            fitting = [c for c in family if envs.env_of(c) in reading.envs]
            return replace(
                reading,
                institution=entry.institution_code,
                issue=Issue("scope_env", system_label(entry)),
                candidates=tuple(fitting or family),
            )
        return replace(reading, system=entry.code, institution=entry.institution_code)
    institution = index.institution(institution_code) if institution_code else None
    if institution is None or reading.institution is not None or reading.issue is not None:
        return reading
    systems = _fitting(index, [e.code for e in index.systems_of(institution.code)], reading.envs)
    return replace(
        reading,
        institution=institution.code,
        issue=Issue("which_system"),
        candidates=tuple(systems),
    )


def _codes(index: CmdbIndex) -> frozenset[str]:
    return frozenset(institution.code for institution in index.institutions)


def reading_from_draft(draft: PlanDraft, text: str, index: CmdbIndex, korean: bool) -> Reading:
    """Map an LLM's draft onto the CMDB: only what the CMDB has, and file names the text has."""
    institutions = index.find_institutions(draft.institution)
    institution = institutions[0].code if len(institutions) == 1 else None
    systems = index.find_systems(draft.system_name, institution)
    system = systems[0] if len(systems) == 1 else None
    issue: Issue | None = None
    if system is None and draft.system_name != UNKNOWN and len(systems) > 1:
        issue = Issue("ambiguous_system", draft.system_name)
    nodes: list[str] = []
    for code in draft.target_nodes:
        owner = index.system_of(code)
        if owner is None or (system is not None and owner.code != system.code):
            continue
        if system is None and issue is None:
            system = owner
        nodes.append(code)
    if system is not None:
        institution = system.institution_code
    lowered = text.lower()
    artifacts = tuple(
        name
        for name in draft.deploy_artifacts
        if name.lower() in lowered and file_name_problem(name) is None
    )
    reading = Reading(
        intent=draft.intent_type,
        korean=korean,
        institution=institution,
        system=system.code if system else None,
        layers=(draft.infrastructure_layer,) if draft.infrastructure_layer else (),
        nodes=tuple(nodes),
        artifacts=artifacts,
        issue=issue,
        named=institution is not None or system is not None,
        raise_approval=draft.requires_approval,
        question=(draft.question or "").strip() or None if draft.needs_clarification else None,
    )
    if nodes and draft.infrastructure_layer is not None:
        # nodes named outrank the layer: the layer only says where the nodes are
        reading = replace(reading, layers=())
    return reading
