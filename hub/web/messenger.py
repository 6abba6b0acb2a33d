"""/api/messenger/webhook: the seed's plain webhook, for messengers without a bridge of their own.

A messenger integration's bearer token says which integration calls (and so which room);
`user_id` names the person as the messenger knows them, and only their link says who that
is here. The answer is the command's fate at once: `IN_PROGRESS`, `PENDING_APPROVAL` or
`ERROR`, with the task id as `sr_id`; plan, approval and result also go to the
integration's callback URL when it has one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from cmdb.tables import Room
from hub.bot.replies import CommandOutcome
from hub.bridges.lanes import lane_of
from hub.i18n import lang_of, pick
from hub.web.http import OrjsonResponse, hub_state, problem

_PREFIX = re.compile(r"^\s*[@/](guardia|bot)\b[\s,:]*", re.IGNORECASE)


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    user_id: Annotated[str, Field(min_length=1, max_length=180, pattern=r"^[^:\s]+$")]
    text: Annotated[str, Field(min_length=1, max_length=16_000)]
    room_id: str | None = None
    files: list[str] = Field(default_factory=list)


def _answer(status: str, message: str, tasks: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "sr_id": tasks[0] if tasks else None}
    if tasks:
        body["sr_ids"] = tasks
    body["message"] = message
    return OrjsonResponse(body)


async def messenger_webhook(request: Request) -> Response:
    state = hub_state(request)
    bridges = state.bridges
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "UNAUTHENTICATED", "an integration bearer token is required")
    integration = await bridges.integrations.authenticate(token.strip())
    if integration is None:
        return problem(401, "UNAUTHENTICATED", "unknown or revoked integration token")
    if integration.kind != "messenger":
        return problem(403, "FORBIDDEN", f"integration {integration.name} is not a messenger")
    try:
        body = WebhookBody.model_validate_json(await request.body())
    except ValidationError as exc:
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
        return problem(400, "BAD_FRAME", f"bad webhook body ({where}): {exc.errors()[0]['msg']}")
    if body.files:
        return problem(
            400,
            "BAD_FRAME",
            "files are not taken through the webhook: upload them with POST /api/artifacts "
            "and name the file in the text",
        )
    room_id = integration.room_id or body.room_id
    if room_id is None:
        return problem(400, "BAD_FRAME", "room_id is required: the integration has no room")
    if integration.room_id and body.room_id and body.room_id != integration.room_id:
        return problem(403, "FORBIDDEN", f"this integration posts to room {integration.room_id}")
    async with state.sessions() as session:
        if await session.get(Room, room_id) is None:
            return problem(404, "UNKNOWN_ROOM", f"no room {room_id}")
    if integration.callback_url:
        lane = await bridges.service.messenger_lane(integration.name, room_id)
    else:
        lane = lane_of("messenger", integration.name)
    command = _PREFIX.sub("", body.text).strip()
    lang = lang_of(command)
    heard = await bridges.inbound.said(
        lane, room_id, body.user_id, f"@guardia {command}".rstrip(), command
    )
    if heard.refusal is not None:
        return _answer("ERROR", heard.refusal)
    outcome = await bridges.inbound.command(lane, heard, body.user_id, command)
    return _outcome(outcome, lang, room_id)


def _outcome(outcome: CommandOutcome, lang: str, room_id: str) -> Response:
    if outcome.refusal is not None:
        return _answer("ERROR", outcome.refusal)
    if not outcome.tasks:
        return _answer(
            "ERROR",
            pick(
                lang,
                f"작업이 만들어지지 않았습니다. 명령을 이해하지 못했거나 대상을 더 알려 주셔야 "
                f"합니다 ({room_id} 방의 답을 보세요).",
                f"No task was started: the command was not understood or needs a target "
                f"(see the answer in room {room_id}).",
            ),
        )
    ids = [t.id for t in outcome.tasks]
    if any((t.plan or {}).get("requires_approval") for t in outcome.tasks):
        return _answer(
            "PENDING_APPROVAL",
            pick(
                lang,
                f"{', '.join(ids)}: 운영 변경이라 승인자의 승인을 기다립니다.",
                f"{', '.join(ids)}: a production change; it waits for an approver.",
            ),
            ids,
        )
    return _answer(
        "IN_PROGRESS",
        pick(lang, f"{', '.join(ids)}: 실행합니다.", f"{', '.join(ids)}: running."),
        ids,
    )
