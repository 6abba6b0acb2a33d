"""The LLM path: an OpenAI-compatible model (Ollama, vLLM) reads the command; policy decides.

The model is asked at temperature 0 for JSON that fits `PlanDraft`'s schema (given both in
`response_format` and in the prompt, since small local models honour one or the other), with
the CMDB's names in the prompt so it has what it needs. Its answer is believed only as far
as it survives: finish_reason must be 'stop', the JSON must parse (prose or a code fence
around it is tolerated) and validate, with one repair round; then grounding maps every name
onto the CMDB, drops nodes it lacks and recomputes approval. Any failure, or the deadline
(GUARDIA_LLM_TIMEOUT seconds for the whole exchange), and the built-in parser answers; so it
does when the LLM leaves undecided (UNKNOWN, or a question) what the built-in parser
decided. Two things the built-in parser decides whatever the LLM says: a text it reads as
negating or forbidding (negation.py) is never a change plan, and which of a system's
environment copies a text means (environments.py: an LLM that picks prod for '... 검증계'
is overruled). An LLM can make a plan better, never unsafe, and never unavailable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from cmdb.index import CmdbIndex
from hub.parser.builtin import builtin_parser, text_is_korean
from hub.parser.environments import environments_of
from hub.parser.grounding import Scope, plan_from_reading, reading_from_draft, scoped
from hub.parser.plan import CHANGE_INTENTS, LAYERS, UNKNOWN, Plan, PlanDraft, draft_json_schema

if TYPE_CHECKING:  # openai is loaded only when an LLM is configured (0.6 s at start-up)
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 8.0
#: the CMDB part of the prompt stops here: a huge CMDB must not drown a small model
MAX_CMDB_PROMPT_CHARS = 24_000
MAX_ANSWER_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """Where the LLM is: GUARDIA_LLM_BASE_URL, _MODEL, _API_KEY, _TIMEOUT (operations.md)."""

    base_url: str
    model: str
    api_key: str = "local"
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:  # the key never reaches a log line through a repr
        return f"LlmSettings(base_url={self.base_url!r}, model={self.model!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LlmSettings | None:
        """The configured LLM, or None when GUARDIA_LLM_BASE_URL is unset (built-in only)."""
        env = os.environ if environ is None else environ
        base_url = env.get("GUARDIA_LLM_BASE_URL", "").strip()
        if not base_url:
            return None
        model = env.get("GUARDIA_LLM_MODEL", "").strip()
        if not model:
            raise ValueError("GUARDIA_LLM_MODEL must name a model when GUARDIA_LLM_BASE_URL is set")
        raw_timeout = env.get("GUARDIA_LLM_TIMEOUT", "").strip()
        try:
            timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT
        except ValueError:
            raise ValueError(f"GUARDIA_LLM_TIMEOUT must be seconds, not {raw_timeout!r}") from None
        if not timeout > 0:
            raise ValueError(f"GUARDIA_LLM_TIMEOUT must be positive, not {raw_timeout!r}")
        api_key = env.get("GUARDIA_LLM_API_KEY", "").strip() or "local"
        return cls(base_url=base_url, model=model, api_key=api_key, timeout=timeout)


class BadAnswer(Exception):
    """The LLM answered, but not with something a plan can be made of."""


def extract_json(content: str) -> dict[str, Any]:
    """The first JSON object in `content`, even inside prose or a ``` fence."""
    text = content.strip()
    try:
        whole = orjson.loads(text)
    except orjson.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return whole
    decoder = json.JSONDecoder()
    position = text.find("{")
    while position != -1:
        try:
            value, _ = decoder.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            return value
        position = text.find("{", position + 1)
    raise BadAnswer("no JSON object in the answer")


def _draft(content: str) -> PlanDraft:
    try:
        return PlanDraft.model_validate(extract_json(content))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'the object'}: {e['msg']}" for e in exc.errors()
        )
        raise BadAnswer(f"the JSON does not fit the schema: {problems}") from None


def _undecided(plan: Plan) -> bool:
    """A plan that does nothing yet: not understood, or waiting for an answer."""
    return plan.intent_type == "UNKNOWN" or plan.needs_clarification


def cmdb_prompt(index: CmdbIndex) -> str:
    """The CMDB as the model sees it: codes, names, aliases, nodes in numbering order."""
    lines: list[str] = []
    for institution in index.institutions:
        aliases = ", ".join(institution.aliases)
        lines.append(f"- institution {institution.code}: {institution.name}; aliases: {aliases}")
        for entry in index.systems_of(institution.code):
            aliases = ", ".join(entry.system.aliases)
            lines.append(f"  - system {entry.code}: {entry.name}; aliases: {aliases}")
            for layer in LAYERS:
                nodes = entry.layers[layer]
                if nodes:
                    listed = ", ".join(f"{n.asset_code} ({n.env})" for n in nodes)
                    lines.append(f"    {layer}: {listed}")
    text = "\n".join(lines)
    if len(text) > MAX_CMDB_PROMPT_CHARS:
        text = text[:MAX_CMDB_PROMPT_CHARS].rsplit("\n", 1)[0] + "\n  ... (more not shown)"
    return text


_RULES = """\
You turn an operator's chat command (Korean, English or both) into a JSON plan for GUARDiA,
a ChatOps tool. Answer with one JSON object only, no prose, fitting this JSON schema:
{schema}

Rules:
- intent_type: RESTART (재기동, 재시작, 껐다 켜, restart), DEPLOY (배포, 반영, deploy),
  ROLLBACK (롤백, 원복, 이전 버전, roll back), STATUS (상태, 살아있어, 헬스체크, status, health),
  DISK_CHECK (디스크, 용량, disk), DB_LOCK_CHECK (락, 잠금, 대기 쿼리, lock, blocking),
  LOG_TAIL (로그, log, tail), UNKNOWN (chit-chat, or not an operations command).
  A command that says NOT to do something (하지 마, 하면 안 돼, 금지, 필요 없어, 취소, 보류,
  don't, do not, never, no need, cancel) is never RESTART, DEPLOY or ROLLBACK: answer
  UNKNOWN, or the read-only intent it also asks for.
- Environment words (운영/운영계/prod, 검증/검증계/스테이징/staging/stg, 개발/개발계/dev)
  choose between systems whose names differ only by such a word; when the text says none
  and names no system exactly, or the copy it names does not exist, ask (needs_clarification).
- institution, system_name: the CODE of the CMDB entry whose code, name or alias the text
  uses; a system named alone implies its institution. "UNKNOWN" when the text names none
  of the CMDB's. Never invent a code.
- infrastructure_layer: WAS (was, 와스, 앱서버, application server), WEB (웹, 웹서버, web
  server) or DB (디비, 데이터베이스, database); null when none is named.
- target_nodes: asset codes from the CMDB only. A layer named: all its nodes. Nodes named
  (an asset code, "2번", "3호기", "was02"): those; "N번" is the N-th node of that layer in
  the order listed below. Neither: every node of the system for STATUS and DISK_CHECK, its
  DB nodes for DB_LOCK_CHECK, and [] for RESTART, DEPLOY, ROLLBACK and LOG_TAIL.
- deploy_artifacts: the file names the text mentions, for DEPLOY only; else [].
- requires_approval: true when RESTART, DEPLOY or ROLLBACK touches a prod node.
- needs_clarification: true, with a short question in the user's language, when the system,
  the servers or (for DEPLOY) the file is missing or ambiguous; else false and null.

CMDB:
{cmdb}
"""


class LlmParser:
    """Parses with the configured LLM, grounded in `index`, falling back to the built-in parser.

    Use it as an async context manager (or call `aclose`) so its HTTP client is closed.
    """

    def __init__(
        self,
        index: CmdbIndex,
        settings: LlmSettings,
        *,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.index = index
        self.settings = settings
        self._builtin = builtin_parser(index)
        # no retries inside the client: the deadline is ours, and the fallback is the retry
        from openai import AsyncOpenAI

        self._client = client or AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key,
            timeout=settings.timeout,
            max_retries=0,
        )
        schema = draft_json_schema()
        self._schema = schema
        self._system_prompt = _RULES.format(
            schema=json.dumps(schema, ensure_ascii=False), cmdb=cmdb_prompt(index)
        )

    async def __aenter__(self) -> LlmParser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    async def parse(self, text: str, *, scope: Scope | None = None) -> Plan:
        """The plan for `text`: the LLM's when it answers well in time, else the built-in one.

        `scope` is the room's (institution code, system code), as for the built-in parser.
        Raises `CommandTooLong` as the built-in parser does; nothing else.
        """
        builtin_reading = self._builtin.read(text)
        fallback = plan_from_reading(scoped(builtin_reading, scope, self.index), self.index)
        try:
            async with asyncio.timeout(self.settings.timeout):
                draft = await self._ask(text)
            reading = reading_from_draft(draft, text, self.index, text_is_korean(text))
            plan = plan_from_reading(scoped(reading, scope, self.index), self.index)
            if builtin_reading.refused_change and plan.intent_type in CHANGE_INTENTS:
                log.info("the text negates or forbids a change; the LLM's change plan is refused")
                return fallback
            if self._other_copy(plan, fallback):
                log.info("LLM chose another environment's copy; the built-in parser's plan is kept")
                return fallback
            if _undecided(plan) and not _undecided(fallback):
                log.info("LLM left the command undecided; the built-in parser's plan is kept")
                return fallback
            return plan
        except TimeoutError:
            reason = f"no answer within {self.settings.timeout:g}s"
        except BadAnswer as exc:
            reason = str(exc)
        except Exception as exc:  # any failure of the LLM path must cost a fallback, no more
            reason = f"{type(exc).__name__}: {exc}"
        log.warning("LLM parse failed (%s); the built-in parser answers", reason)
        return fallback

    def _other_copy(self, plan: Plan, fallback: Plan) -> bool:
        """Whether the LLM chose a system whose environment copy the built-in parser did not."""
        if plan.system_name == UNKNOWN or plan.system_name == fallback.system_name:
            return False
        family = environments_of(self.index).family(plan.system_name)
        decided = fallback.system_name != UNKNOWN or bool(fallback.system_candidates)
        return (
            len(family) > 1
            and decided
            and (
                fallback.system_name in family
                or bool(set(fallback.system_candidates) & set(family))
            )
        )

    async def _ask(self, text: str) -> PlanDraft:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": self._system_prompt},
            {"role": "user", "content": text},
        ]
        for attempt in range(2):
            response = await self._client.chat.completions.create(
                model=self.settings.model,
                messages=messages,
                temperature=0,
                max_tokens=MAX_ANSWER_TOKENS,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "plan", "schema": self._schema, "strict": True},
                },
            )
            if not response.choices:
                raise BadAnswer("the answer has no choices")
            choice = response.choices[0]
            if choice.finish_reason != "stop":
                raise BadAnswer(f"finish_reason is {choice.finish_reason!r}, not 'stop'")
            content = choice.message.content or ""
            try:
                return _draft(content)
            except BadAnswer as exc:
                if attempt:
                    raise
                log.info("LLM answer refused (%s); asking once more", exc)
                messages.append({"role": "assistant", "content": content})
                messages.append(
                    {
                        "role": "user",
                        "content": f"That answer is not valid: {exc}. Reply with only the "
                        "JSON object, fitting the schema exactly.",
                    }
                )
        raise AssertionError("unreachable")  # pragma: no cover
