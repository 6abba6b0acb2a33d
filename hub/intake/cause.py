"""A probable cause for a new card, written by the configured LLM (GUARDIA_LLM_BASE_URL).

Optional and after the fact: the card goes out first, the LLM is asked in the background
(within GUARDIA_LLM_TIMEOUT), and a cause that survives the checks updates the card in
place. The model reads the incident's title and summary (the stack trace) and the similar
incident with what fixed it; it answers JSON `{"ko": ..., "en": ...}`, one or two sentences
in each language, so every reader gets theirs.

What it may say is checked, not trusted: a node code it names must be the incident's or
the similar incident's, an action code (UPPER_SNAKE) must be one of the catalog's, a host
address must be in the incident's own text, and the text is plain (at most MAX_CHARS per
language; the web app never renders it as HTML). Anything else, and the card keeps no
cause. The LLM never adds a button: the card's buttons are the hub's, made before it is
asked, and nothing runs without a press.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any, get_args

from hub.intake.memory import IncidentRecord, Similar, similar_words
from hub.parser.llm import BadAnswer, LlmSettings, extract_json
from hub.parser.plan import Action

if TYPE_CHECKING:  # openai is loaded only when an LLM is configured (0.6 s at start-up)
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam

log = logging.getLogger("guardia.hub.incidents")

MAX_CHARS = 400
MAX_PROMPT_SUMMARY = 3000
MAX_ANSWER_TOKENS = 400
CATALOG = frozenset(get_args(Action))

_ASSET = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+){2,}\b")
_ACTION = re.compile(r"\b[A-Z]{2,}(?:_[A-Z]{2,})+\b")
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_MARKUP = re.compile(r"[<>`]")

RULES = """You help the operators of a government IT system read an incident.
From the incident below (and the similar earlier one, if given), write its most probable
cause in one or two short sentences, once in Korean and once in English.
Say only what the text supports; say "불명확" / "unclear" rather than guess.
Do not propose commands, do not name any server other than those given, do not use markup.
Answer with only this JSON object: {"ko": "...", "en": "..."}"""


def prompt(incident: IncidentRecord, similar: Similar | None) -> str:
    lines = [
        f"node: {incident.node or '-'}",
        f"source: {incident.source}",
        f"title: {incident.title}",
        "summary:",
        incident.summary[:MAX_PROMPT_SUMMARY],
    ]
    if similar is not None:
        lines.append("similar earlier incident: " + similar_words(similar.json(), "en"))
    return "\n".join(lines)


def checked(
    answer: dict[str, Any], incident: IncidentRecord, similar: Similar | None
) -> dict[str, str]:
    """The cause as the card may show it; BadAnswer says why it may not."""
    nodes = {
        n for n in (incident.node, similar and similar.asset_code, similar and similar.node) if n
    }
    known_text = f"{incident.title}\n{incident.summary}"
    cause: dict[str, str] = {}
    for lang in ("ko", "en"):
        text = answer.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise BadAnswer(f"no {lang} text")
        text = " ".join(text.split())
        if len(text) > MAX_CHARS:
            raise BadAnswer(f"the {lang} text is longer than {MAX_CHARS} characters")
        if _MARKUP.search(text):
            raise BadAnswer(f"the {lang} text has markup")
        if stray := set(_ASSET.findall(text)) - nodes:
            raise BadAnswer(f"it names nodes not in the incident: {sorted(stray)}")
        if stray := set(_ACTION.findall(text)) - CATALOG:
            raise BadAnswer(f"it names actions not in the catalog: {sorted(stray)}")
        if stray := {ip for ip in _IP.findall(text) if ip not in known_text}:
            raise BadAnswer(f"it names addresses not in the incident: {sorted(stray)}")
        cause[lang] = text
    return cause


class CauseWriter:
    """Asks the LLM for a probable cause; None whenever it cannot give a checked one."""

    def __init__(self, settings: LlmSettings, *, client: AsyncOpenAI | None = None) -> None:
        self.settings = settings
        from openai import AsyncOpenAI

        self._client = client or AsyncOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key,
            timeout=settings.timeout,
            max_retries=0,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def write(
        self, incident: IncidentRecord, similar: Similar | None
    ) -> dict[str, str] | None:
        try:
            async with asyncio.timeout(self.settings.timeout):
                return checked(await self._ask(incident, similar), incident, similar)
        except TimeoutError:
            reason = f"no answer within {self.settings.timeout:g}s"
        except BadAnswer as exc:
            reason = str(exc)
        except Exception as exc:  # the card keeps no cause, nothing more
            reason = f"{type(exc).__name__}: {exc}"
        log.warning("no probable cause for incident %s: %s", incident.incident_id, reason)
        return None

    async def _ask(self, incident: IncidentRecord, similar: Similar | None) -> dict[str, Any]:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": RULES},
            {"role": "user", "content": prompt(incident, similar)},
        ]
        response = await self._client.chat.completions.create(
            model=self.settings.model,
            messages=messages,
            temperature=0,
            max_tokens=MAX_ANSWER_TOKENS,
            response_format={"type": "json_object"},
        )
        if not response.choices:
            raise BadAnswer("the answer has no choices")
        choice = response.choices[0]
        if choice.finish_reason != "stop":
            raise BadAnswer(f"finish_reason is {choice.finish_reason!r}, not 'stop'")
        return extract_json(choice.message.content or "")
