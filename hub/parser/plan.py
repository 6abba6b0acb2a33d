"""The plan a command becomes (operations.md, "The plan"), and the policy that shapes it.

Two models: `Plan` is what the parser hands out and is consistent by construction (its
action sequence is the one policy gives its intent, a question exactly when it needs
clarification). `PlanDraft` is what an LLM is asked for: the same fields minus those that
policy computes, validated before anything of it is believed; grounding turns it into a
`Plan`. The policy lives here, in tables, so both parsers apply the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

Intent = Literal[
    "RESTART", "DEPLOY", "ROLLBACK", "STATUS", "DISK_CHECK", "DB_LOCK_CHECK", "LOG_TAIL", "UNKNOWN"
]
Action = Literal[
    "RESTART_SERVICE",
    "DEPLOY_ARTIFACT",
    "ROLLBACK_DEPLOY",
    "HEALTH_CHECK",
    "SERVICE_STATUS",
    "CHECK_DISK_SPACE",
    "FETCH_DB_LOCKS",
    "TAIL_LOG",
]
Layer = Literal["WAS", "WEB", "DB"]
#: the order layers and their nodes are listed in
LAYERS: tuple[Layer, ...] = ("WAS", "WEB", "DB")

#: what `institution` and `system_name` say when the text names nothing the CMDB has
UNKNOWN = "UNKNOWN"

ACTION_SEQUENCES: Mapping[Intent, tuple[Action, ...]] = MappingProxyType(
    {
        "RESTART": ("RESTART_SERVICE", "HEALTH_CHECK"),
        "DEPLOY": ("DEPLOY_ARTIFACT", "HEALTH_CHECK"),
        "ROLLBACK": ("ROLLBACK_DEPLOY", "HEALTH_CHECK"),
        "STATUS": ("HEALTH_CHECK",),
        "DISK_CHECK": ("CHECK_DISK_SPACE",),
        "DB_LOCK_CHECK": ("FETCH_DB_LOCKS",),
        "LOG_TAIL": ("TAIL_LOG",),
        "UNKNOWN": (),
    }
)
INTENTS: tuple[Intent, ...] = tuple(ACTION_SEQUENCES)
#: intents that change a system; on any prod node they need an approver
CHANGE_INTENTS: frozenset[Intent] = frozenset({"RESTART", "DEPLOY", "ROLLBACK"})


def approval_required(intent: Intent, envs: Iterable[str]) -> bool:
    """Policy: a change that touches any prod node needs an approver."""
    return intent in CHANGE_INTENTS and "prod" in envs


Name = Annotated[str, Field(min_length=1, max_length=200)]


class Plan(BaseModel):
    """A command understood: what to do, where, and whether a person must still decide."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intent_type: Intent
    institution: Name
    system_name: Name
    infrastructure_layer: Layer | None
    target_nodes: tuple[Name, ...]
    action_sequence: tuple[Action, ...]
    deploy_artifacts: tuple[Name, ...]
    requires_approval: bool
    needs_clarification: bool
    question: str | None
    #: system codes a question about which system offers (buttons); added last, so that
    #: the JSON of a plan keeps its field order (operations.md, "The plan")
    system_candidates: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.action_sequence != ACTION_SEQUENCES[self.intent_type]:
            raise ValueError(f"action_sequence does not fit intent {self.intent_type}")
        if self.needs_clarification != bool(self.question):
            raise ValueError("a question is asked exactly when clarification is needed")
        if self.deploy_artifacts and self.intent_type != "DEPLOY":
            raise ValueError("deploy_artifacts belong to DEPLOY plans only")
        if len(set(self.target_nodes)) != len(self.target_nodes):
            raise ValueError("target_nodes repeats a node")
        if self.system_candidates and (self.system_name != UNKNOWN or not self.question):
            raise ValueError("system_candidates come with a question and no system chosen")
        if len(set(self.system_candidates)) != len(self.system_candidates):
            raise ValueError("system_candidates repeats a system")
        return self

    def to_json(self) -> bytes:
        """The plan as operations.md prints it (UTF-8 JSON, field order kept)."""
        return orjson.dumps(self.model_dump(mode="json"))


class PlanDraft(BaseModel):
    """What an LLM proposes; nothing in it is trusted until grounding has checked it."""

    # extra keys are ignored: grounding recomputes what policy owns (e.g. action_sequence)
    model_config = ConfigDict(frozen=True, extra="ignore")

    intent_type: Intent
    institution: Name
    system_name: Name
    infrastructure_layer: Layer | None = None
    target_nodes: list[Name] = Field(default_factory=list, max_length=200)
    deploy_artifacts: list[Name] = Field(default_factory=list, max_length=20)
    requires_approval: bool = False
    needs_clarification: bool = False
    question: Annotated[str, Field(max_length=500)] | None = None


#: keywords OpenAI's strict structured outputs refuse; PlanDraft still checks them itself
_UNSUPPORTED_KEYWORDS = ("title", "default", "minLength", "maxLength")


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in _UNSUPPORTED_KEYWORDS}
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def draft_json_schema() -> dict[str, Any]:
    """The JSON schema an LLM must answer with: every field required, no others.

    Fit for OpenAI's strict mode (all keys required, no additional ones, no length keywords)
    and for Ollama and vLLM, which take the same `response_format`.
    """
    schema: dict[str, Any] = _strip(PlanDraft.model_json_schema())
    schema.pop("description", None)  # the docstring speaks to programmers, not to the model
    schema["required"] = list(schema["properties"])
    schema["additionalProperties"] = False
    return schema
