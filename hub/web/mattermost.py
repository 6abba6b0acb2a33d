"""/api/mattermost/webhook and /api/mattermost/actions: Mattermost in and button presses.

The webhook takes outgoing webhooks and slash commands whose `token` is configured. A press
comes back to the actions URL with the `context` the hub signed when it posted the button;
a context the hub did not sign, or signed for another channel, is refused.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hub.bridges.assembly import Bridges
from hub.bridges.inbound import Heard
from hub.bridges.lanes import lane_of
from hub.bridges.mattermost_events import MattermostLine, fields_of, parse_line, token_ok
from hub.bridges.wording import not_linked_channel, received
from hub.i18n import lang_of, pick
from hub.web.http import OrjsonResponse, hub_state, problem

log = logging.getLogger("guardia.hub.mattermost")


async def mattermost_webhook(request: Request) -> Response:
    bridges = hub_state(request).bridges
    if not bridges.mattermost_tokens:
        return problem(404, "NOT_FOUND", "the Mattermost bridge is not configured on this hub")
    try:
        fields = fields_of(await request.body(), request.headers.get("content-type", ""))
    except ValueError as exc:
        return problem(400, "BAD_FRAME", f"not a Mattermost webhook body: {exc}")
    if not token_ok(fields.get("token"), bridges.mattermost_tokens):
        return problem(401, "UNAUTHENTICATED", "unknown Mattermost webhook or command token")
    line = parse_line(fields)
    if line is None:
        return problem(400, "BAD_FRAME", "channel_id, user_id and text are required")
    own = await bridges.mattermost.own_user_id() if bridges.mattermost else None
    if own is not None and line.user == own:
        return OrjsonResponse({})  # our own post, come back through an outgoing webhook
    lane = lane_of("mattermost", line.channel)
    room_id = await bridges.inbound.room(lane)
    lang = lang_of(line.command or line.content)
    if room_id is None:
        return _answer(line, not_linked_channel(lang))
    keys = [f"mattermost:event:{line.event_key}"] if line.event_key else []
    if keys and not await bridges.service.store.first_time(*keys):
        return OrjsonResponse({})
    heard = await bridges.inbound.said(lane, room_id, line.user, line.content, line.command)
    bridges.service.touch(lane, room_id)
    if line.command is None:
        return OrjsonResponse({})
    if heard.refusal is not None:
        if line.slash:
            return _answer(line, heard.refusal)
        await bridges.service.notify(lane, room_id, line.user, heard.refusal)
        return OrjsonResponse({})
    bridges.inbound.spawn(_command(bridges, lane, heard, line))
    return _answer(line, received(lang)) if line.slash else OrjsonResponse({})


def _answer(line: MattermostLine, text: str) -> Response:
    """A slash command's answer, to its user alone; an outgoing webhook's posts nothing."""
    if line.slash:
        return OrjsonResponse({"response_type": "ephemeral", "text": text})
    return OrjsonResponse({})


async def _command(bridges: Bridges, lane: str, heard: Heard, line: MattermostLine) -> None:
    assert line.command is not None
    await bridges.inbound.command(lane, heard, line.user, line.command)


async def mattermost_actions(request: Request) -> Response:
    bridges = hub_state(request).bridges
    if bridges.mattermost is None:
        return problem(404, "NOT_FOUND", "the Mattermost bridge is not configured on this hub")
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return problem(400, "BAD_JSON", "the body is not JSON")
    if not isinstance(payload, dict):
        return problem(400, "BAD_FRAME", "the body must be a JSON object")
    channel, user, context = (payload.get(k) for k in ("channel_id", "user_id", "context"))
    if not isinstance(channel, str) or not isinstance(user, str):
        return problem(400, "BAD_FRAME", "channel_id and user_id are required")
    action_id = bridges.mattermost_signer.verify(context, channel)
    if action_id is None:
        log.warning("Mattermost press with a context this hub did not sign (channel %s)", channel)
        return problem(403, "FORBIDDEN", "the button's context is not signed by this hub")
    assert isinstance(context, dict)
    lang = str(context.get("lang") or "en")
    lane = lane_of("mattermost", channel)
    room_id = await bridges.inbound.room(lane)
    if room_id is None:
        return OrjsonResponse({"ephemeral_text": not_linked_channel(lang)})
    try:
        refusal = await bridges.inbound.press(lane, room_id, user, action_id, lang)
    except Exception:
        log.exception("a Mattermost press on %s failed", lane)
        refusal = pick(lang, "내부 오류로 처리하지 못했습니다.", "An internal error stopped it.")
    return OrjsonResponse({"ephemeral_text": refusal} if refusal else {})
