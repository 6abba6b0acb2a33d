"""hub.parser.llm against a fake OpenAI-compatible server on loopback, with the real client.

The fake serves /v1/chat/completions the way Ollama does (its answer shape, its error
shape) from a script each test writes: good answers, answers wrapped in prose or a fence,
broken JSON, schema violations, invented names, a 500, and one that answers too late.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import CommandTooLong, parse_command
from hub.parser.llm import BadAnswer, LlmParser, LlmSettings, extract_json

EVAL_CMDB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cmdb.yaml"
API_KEY = "sk-test-never-logged-0123456789"
MODEL = "qwen2.5:7b-instruct"


@dataclass(frozen=True)
class Reply:
    content: str = ""
    finish_reason: str = "stop"
    status: int = 200
    delay: float = 0.0


class FakeLlm:
    """An Ollama-like chat completions endpoint answering from a script, recording requests."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.closing = False
        self.app = Starlette(
            routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])]
        )

    def answer(self, *replies: Reply) -> None:
        self.script = deque(replies)
        self.requests = []

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"body": body, "authorization": request.headers.get("authorization")})
        reply = self.script.popleft() if self.script else Reply(status=500)
        deadline = time.monotonic() + reply.delay
        while time.monotonic() < deadline and not self.closing:
            await asyncio.sleep(0.01)
        if reply.status != 200:
            error = {"message": "model runner has unexpectedly stopped", "type": "api_error"}
            return JSONResponse({"error": {**error, "param": None, "code": None}}, reply.status)
        return JSONResponse(
            {
                "id": "chatcmpl-42",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body["model"],
                "system_fingerprint": "fp_ollama",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {"prompt_tokens": 900, "completion_tokens": 80, "total_tokens": 980},
            }
        )


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[tuple[FakeLlm, str]]:
    """A real uvicorn on a free loopback port, in a thread of its own."""
    fake = FakeLlm()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake.app, log_config=None, access_log=False, lifespan="off", ws="none", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the fake LLM server did not start"
        time.sleep(0.01)
    yield fake, f"http://127.0.0.1:{port}/v1"
    fake.closing = True
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def index() -> CmdbIndex:
    return CmdbIndex.from_document(load_cmdb_file(EVAL_CMDB))


def settings_for(base_url: str, timeout: float = 5.0) -> LlmSettings:
    return LlmSettings(base_url=base_url, model=MODEL, api_key=API_KEY, timeout=timeout)


def plan_json(**fields: Any) -> str:
    plan: dict[str, Any] = {
        "intent_type": "RESTART",
        "institution": "MOF",
        "system_name": "BUDGET",
        "infrastructure_layer": "WAS",
        "target_nodes": ["MOF-WAS-01", "MOF-WAS-02"],
        "deploy_artifacts": [],
        "requires_approval": True,
        "needs_clarification": False,
        "question": None,
    }
    plan.update(fields)
    return orjson.dumps(plan).decode()


# The built-in parser does not understand German: a plan for it can only come from the LLM.
GERMAN = "Bitte die Anwendungsserver vom Haushalt neu starten"


async def _parse(fake_llm: tuple[FakeLlm, str], index: CmdbIndex, text: str, *replies: Reply,
                 timeout: float = 5.0) -> Any:  # fmt: skip
    fake, base_url = fake_llm
    fake.answer(*replies)
    async with LlmParser(index, settings_for(base_url, timeout)) as parser:
        return await parser.parse(text)


async def test_a_good_answer_becomes_the_plan(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    assert parse_command(GERMAN, index).intent_type == "UNKNOWN"
    plan = await _parse(fake_llm, index, GERMAN, Reply(plan_json()))
    assert plan.intent_type == "RESTART"
    assert plan.target_nodes == ("MOF-WAS-01", "MOF-WAS-02")
    assert plan.action_sequence == ("RESTART_SERVICE", "HEALTH_CHECK")
    fake, _ = fake_llm
    (request,) = fake.requests
    body = request["body"]
    assert request["authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == MODEL
    assert body["temperature"] == 0
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert set(schema["required"]) == set(schema["properties"]) >= {"intent_type", "target_nodes"}
    assert schema["additionalProperties"] is False and "maxLength" not in str(schema)
    system, user = body["messages"]
    assert user == {"role": "user", "content": GERMAN}
    for needed in ("MOF-WAS-02", "디브레인", "BUDGET-STG", '"intent_type"', "DB_LOCK_CHECK"):
        assert needed in system["content"]


@pytest.mark.parametrize(
    "wrap",
    [
        "Sure! Here is the plan you asked for:\n{plan}\nLet me know if you need more.",
        "```json\n{plan}\n```",
        "```\n{plan}\n```\n",
        "  {plan}  ",
    ],
    ids=["prose", "json fence", "bare fence", "spaces"],
)
async def test_json_wrapped_in_prose_or_a_fence_is_read(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, wrap: str
) -> None:
    plan = await _parse(fake_llm, index, GERMAN, Reply(wrap.format(plan=plan_json())))
    assert plan.intent_type == "RESTART"
    assert len(fake_llm[0].requests) == 1


async def test_invalid_json_twice_falls_back(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, caplog: pytest.LogCaptureFixture
) -> None:
    text = "정부24 WAS 2번 재시작해줘"
    broken = Reply('{"intent_type": "RESTART", "institution": "MOIS",')
    with caplog.at_level(logging.WARNING, logger="hub.parser.llm"):
        plan = await _parse(fake_llm, index, text, broken, broken)
    assert plan == parse_command(text, index)
    assert len(fake_llm[0].requests) == 2  # the answer, and one repair
    assert "no JSON object" in caplog.text and "built-in parser answers" in caplog.text


async def test_a_schema_violation_is_repaired_once(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    bad = plan_json(intent_type="REBOOT_EVERYTHING", target_nodes="MOF-WAS-01")
    plan = await _parse(fake_llm, index, GERMAN, Reply(bad), Reply(plan_json()))
    assert plan.intent_type == "RESTART"
    first, second = (r["body"]["messages"] for r in fake_llm[0].requests)
    assert second[: len(first)] == first
    assert second[-2] == {"role": "assistant", "content": bad}
    assert second[-1]["role"] == "user"
    assert "intent_type" in second[-1]["content"] and "not valid" in second[-1]["content"]


async def test_names_the_cmdb_lacks_become_unknown(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    invented = plan_json(institution="MND", system_name="HR", target_nodes=["MND-WAS-01"])
    plan = await _parse(fake_llm, index, "국방부 인사시스템 WAS 재기동해줘", Reply(invented))
    assert (plan.institution, plan.system_name, plan.target_nodes) == ("UNKNOWN", "UNKNOWN", ())
    assert plan.requires_approval is False and plan.needs_clarification is True


async def test_an_invented_node_is_dropped(fake_llm: tuple[FakeLlm, str], index: CmdbIndex) -> None:
    answer = plan_json(target_nodes=["MOF-WAS-01", "MOF-WAS-07", "MOIS-WAS-01"])
    plan = await _parse(fake_llm, index, "예산시스템 WAS 1번 재기동", Reply(answer))
    assert plan.target_nodes == ("MOF-WAS-01",)


async def test_names_are_mapped_to_codes(fake_llm: tuple[FakeLlm, str], index: CmdbIndex) -> None:
    answer = plan_json(institution="기재부", system_name="dBrain", target_nodes=[])
    plan = await _parse(fake_llm, index, GERMAN, Reply(answer))
    assert (plan.institution, plan.system_name) == ("MOF", "BUDGET")
    assert plan.target_nodes == ("MOF-WAS-01", "MOF-WAS-02")  # the layer's nodes, by policy


async def test_policy_wins_over_an_llm_that_skips_approval(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    answer = plan_json(requires_approval=False)
    plan = await _parse(fake_llm, index, "기재부 예산시스템 WAS 재기동해줘", Reply(answer))
    assert plan.requires_approval is True


async def test_an_llm_may_raise_approval(fake_llm: tuple[FakeLlm, str], index: CmdbIndex) -> None:
    answer = plan_json(system_name="BUDGET-STG", target_nodes=["MOF-STG-WAS-01"])
    plan = await _parse(fake_llm, index, "예산 검증계 WAS 재기동", Reply(answer))
    assert plan.target_nodes == ("MOF-STG-WAS-01",)
    assert plan.requires_approval is True


async def test_artifacts_not_in_the_text_are_dropped(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    answer = plan_json(intent_type="DEPLOY", deploy_artifacts=["budget-2.3.1.war", "evil.sh"])
    text = "예산시스템 WAS에 budget-2.3.1.war 배포해줘"
    plan = await _parse(fake_llm, index, text, Reply(answer))
    assert plan.deploy_artifacts == ("budget-2.3.1.war",)


async def test_an_llm_that_gives_up_does_not_undo_the_builtin_plan(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    text = "기재부 예산시스템 WAS 재기동해줘"
    gave_up = plan_json(intent_type="UNKNOWN", institution="UNKNOWN", system_name="UNKNOWN")
    plan = await _parse(fake_llm, index, text, Reply(gave_up))
    assert plan == parse_command(text, index)
    assert plan.intent_type == "RESTART"


# The LLM says RESTART; the text says not to: no change plan, whatever the LLM answers.
NEGATED = [
    ("정부24 WAS 재기동하지 마세요", "MINWON"),
    ("정부24 WAS 재기동 취소", "MINWON"),
    ("don't restart the Gov24 WAS", "MINWON"),
    ("no need to restart Gov24 WAS", "MINWON"),
    # a verb the built-in parser does not know: the prohibition alone refuses the change
    ("정부24 톰캣 다시 올리지 마", "MINWON"),
    ("never bring the Gov24 WAS down and up", "MINWON"),
]


@pytest.mark.parametrize(("text", "system"), NEGATED, ids=[text for text, _ in NEGATED])
async def test_a_negated_sentence_is_no_change_even_if_the_llm_says_so(
    fake_llm: tuple[FakeLlm, str],
    index: CmdbIndex,
    caplog: pytest.LogCaptureFixture,
    text: str,
    system: str,
) -> None:
    nodes = [node.asset_code for node in index.nodes_of(system, "WAS")]
    answer = plan_json(institution="MOIS", system_name=system, target_nodes=nodes)
    with caplog.at_level(logging.INFO, logger="hub.parser.llm"):
        plan = await _parse(fake_llm, index, text, Reply(answer))
    assert len(fake_llm[0].requests) == 1  # the LLM was asked, and overruled
    assert plan.intent_type not in ("RESTART", "DEPLOY", "ROLLBACK")
    assert (plan.target_nodes, plan.requires_approval) == ((), False)
    assert plan == parse_command(text, index)
    assert "LLM's change plan is refused" in caplog.text


async def test_a_negated_change_keeps_the_llms_read_only_answer(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    text = "정부24 WAS 재기동하지 말고 상태만 봐줘"
    answer = plan_json(
        intent_type="STATUS", institution="MOIS", system_name="MINWON", target_nodes=[]
    )
    plan = await _parse(fake_llm, index, text, Reply(answer))
    assert plan.intent_type == "STATUS" and plan.system_name == "MINWON"


async def test_an_llm_that_picks_prod_for_a_staging_text_is_overruled(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, caplog: pytest.LogCaptureFixture
) -> None:
    text = "dBrain 검증계 WAS 재기동"
    with caplog.at_level(logging.INFO, logger="hub.parser.llm"):
        plan = await _parse(fake_llm, index, text, Reply(plan_json()))  # BUDGET, prod
    assert (plan.system_name, plan.target_nodes) == ("BUDGET-STG", ("MOF-STG-WAS-01",))
    assert plan.requires_approval is False
    assert "another environment's copy" in caplog.text


async def _parse_in(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, text: str, scope: Any, reply: Reply
) -> Any:
    fake, base_url = fake_llm
    fake.answer(reply)
    async with LlmParser(index, settings_for(base_url)) as parser:
        return await parser.parse(text, scope=scope)


async def test_the_llm_path_grounds_in_the_rooms_scope(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    nothing_named = plan_json(institution="UNKNOWN", system_name="UNKNOWN", target_nodes=[])
    text = "WAS 재기동해줘"
    plan = await _parse_in(fake_llm, index, text, ("MOIS", "MINWON"), Reply(nothing_named))
    assert (plan.system_name, plan.infrastructure_layer) == ("MINWON", "WAS")
    assert plan.target_nodes == ("MOIS-WAS-01", "MOIS-WAS-02", "MOIS-WAS-03")
    asked = await _parse_in(fake_llm, index, text, ("MOF", None), Reply(nothing_named))
    assert (asked.institution, asked.system_name, asked.needs_clarification) == (
        "MOF",
        "UNKNOWN",
        True,
    )
    assert asked.system_candidates == ("BUDGET", "BUDGET-STG")


async def test_a_timeout_falls_back_in_time(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, caplog: pytest.LogCaptureFixture
) -> None:
    text = "나라장터 DB 재기동해줘"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="hub.parser.llm"):
        plan = await _parse(fake_llm, index, text, Reply(plan_json(), delay=3), timeout=0.3)
    assert time.monotonic() - started < 2
    assert plan == parse_command(text, index)
    assert "built-in parser answers" in caplog.text


async def test_a_server_error_falls_back(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, caplog: pytest.LogCaptureFixture
) -> None:
    text = "정부24 대기 쿼리 보여줘"
    with caplog.at_level(logging.DEBUG):
        plan = await _parse(fake_llm, index, text, Reply(status=500))
    assert plan == parse_command(text, index)
    assert len(fake_llm[0].requests) == 1  # no retry inside the client
    assert "InternalServerError" in caplog.text
    assert API_KEY not in caplog.text
    assert all(API_KEY not in str(record.args) for record in caplog.records)


async def test_a_truncated_answer_falls_back(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex, caplog: pytest.LogCaptureFixture
) -> None:
    text = "예산시스템 디스크 용량 확인해줘"
    with caplog.at_level(logging.WARNING, logger="hub.parser.llm"):
        plan = await _parse(fake_llm, index, text, Reply(plan_json()[:40], finish_reason="length"))
    assert plan == parse_command(text, index)
    assert "finish_reason is 'length'" in caplog.text


async def test_no_server_at_all_falls_back(index: CmdbIndex) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = "KONEPS disk usage"
    async with LlmParser(index, settings_for(f"http://127.0.0.1:{port}/v1", 2)) as parser:
        assert await parser.parse(text) == parse_command(text, index)


async def test_an_over_long_command_is_refused_before_the_llm(
    fake_llm: tuple[FakeLlm, str], index: CmdbIndex
) -> None:
    fake, base_url = fake_llm
    fake.answer(Reply(plan_json()))
    async with LlmParser(index, settings_for(base_url)) as parser:
        with pytest.raises(CommandTooLong):
            await parser.parse("x" * 100_000)
    assert fake.requests == []


def test_settings_from_env() -> None:
    assert LlmSettings.from_env({}) is None
    settings = LlmSettings.from_env(
        {"GUARDIA_LLM_BASE_URL": "http://127.0.0.1:11434/v1", "GUARDIA_LLM_MODEL": MODEL}
    )
    assert settings == LlmSettings("http://127.0.0.1:11434/v1", MODEL, "local", 8.0)
    env = {"GUARDIA_LLM_BASE_URL": "http://x/v1", "GUARDIA_LLM_MODEL": MODEL}
    keyed = LlmSettings.from_env(
        {**env, "GUARDIA_LLM_API_KEY": API_KEY, "GUARDIA_LLM_TIMEOUT": "2.5"}
    )
    assert keyed is not None and keyed.timeout == 2.5 and API_KEY not in repr(keyed)
    with pytest.raises(ValueError, match="GUARDIA_LLM_TIMEOUT"):
        LlmSettings.from_env({**env, "GUARDIA_LLM_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="GUARDIA_LLM_MODEL"):
        LlmSettings.from_env({"GUARDIA_LLM_BASE_URL": "http://x/v1"})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('noise {"a": {"b": [1, 2]}} more {"c": 3}', {"a": {"b": [1, 2]}}),
        ('{broken {"a": 1}', {"a": 1}),
        ('```json\n{"a": "}"}\n```', {"a": "}"}),
    ],
)
def test_extract_json(content: str, expected: dict[str, Any]) -> None:
    assert extract_json(content) == expected


@pytest.mark.parametrize("content", ["", "no json here", "[1, 2]", "{unclosed"])
def test_extract_json_refuses(content: str) -> None:
    with pytest.raises(BadAnswer):
        extract_json(content)
