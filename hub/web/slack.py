"""/api/slack/events and /api/slack/interactivity: Slack's Events API and button presses.

Both verify `X-Slack-Signature` over the raw body (5-minute window) before anything is
parsed, and answer at once: Slack retries after 3 s, so the work goes on in the background,
and a retried event (same `event_id`, or the same post seen as `app_mention` and `message`)
is recognised and taken once.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hub.bridges.assembly import Bridges
from hub.bridges.inbound import Heard
from hub.bridges.lanes import lane_of
from hub.bridges.slack_events import SlackLine, parse_event, parse_press
from hub.web.http import OrjsonResponse, hub_state, problem

log = logging.getLogger("guardia.hub.slack")


async def _verified(request: Request) -> tuple[Bridges, bytes] | Response:
    bridges = hub_state(request).bridges
    verifier = bridges.slack_verifier
    if verifier is None:
        return problem(404, "NOT_FOUND", "the Slack bridge is not configured on this hub")
    body = await request.body()
    if not verifier.is_valid(
        body,
        request.headers.get("x-slack-request-timestamp"),
        request.headers.get("x-slack-signature"),
    ):
        return problem(401, "UNAUTHENTICATED", "bad or old X-Slack-Signature")
    return bridges, body


async def slack_events(request: Request) -> Response:
    verified = await _verified(request)
    if isinstance(verified, Response):
        return verified
    bridges, body = verified
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return problem(400, "BAD_JSON", "the body is not JSON")
    if not isinstance(payload, dict):
        return problem(400, "BAD_FRAME", "the body must be a JSON object")
    if payload.get("type") == "url_verification":
        return OrjsonResponse({"challenge": str(payload.get("challenge", ""))})
    line = parse_event(payload)
    if line is None:
        return OrjsonResponse({"ok": True})
    lane = lane_of("slack", line.channel)
    room_id = await bridges.inbound.room(lane)
    if room_id is None:
        log.info("Slack channel %s is not linked to a room; event ignored", line.channel)
        return OrjsonResponse({"ok": True})
    keys = (f"slack:event:{line.event_id}", f"slack:post:{line.channel}:{line.ts}")
    store = bridges.service.store
    if not await store.first_time(*keys):
        retry = request.headers.get("x-slack-retry-num")
        log.info("Slack event %s seen before (retry %s)", line.event_id, retry)
        return OrjsonResponse({"ok": True, "duplicate": True})
    try:
        heard = await bridges.inbound.said(lane, room_id, line.user, line.content, line.command)
    except Exception:
        await store.unclaim(*keys)  # so that Slack's retry is taken
        raise
    bridges.service.touch(lane, room_id)
    if line.command is not None:
        bridges.inbound.spawn(_command(bridges, lane, heard, line))
    return OrjsonResponse({"ok": True})


async def _command(bridges: Bridges, lane: str, heard: Heard, line: SlackLine) -> None:
    assert line.command is not None
    if heard.refusal is not None:
        await bridges.service.notify(lane, heard.room_id, line.user, heard.refusal)
        return
    await bridges.inbound.command(lane, heard, line.user, line.command)


async def slack_interactivity(request: Request) -> Response:
    verified = await _verified(request)
    if isinstance(verified, Response):
        return verified
    bridges, body = verified
    try:
        press = parse_press(body)
    except ValueError as exc:
        return problem(400, "BAD_FRAME", f"not a Slack interaction payload: {exc}")
    if press is None:
        return Response(status_code=200)
    lane = lane_of("slack", press.channel)
    room_id = await bridges.inbound.room(lane)
    if room_id is None:
        return Response(status_code=200)
    for action_id in press.action_ids:
        bridges.inbound.spawn(_press(bridges, lane, room_id, press.user, action_id, press.lang))
    return Response(status_code=200)


async def _press(
    bridges: Bridges, lane: str, room_id: str, user: str, action_id: str, lang: str
) -> None:
    try:
        refusal = await bridges.inbound.press(lane, room_id, user, action_id, lang)
    except Exception:
        log.exception("a Slack press on %s failed", lane)
        return
    if refusal is not None:
        await bridges.service.notify(lane, room_id, user, refusal)
