"""Mattermost's outgoing webhooks and slash commands, as the lines they are.

Both arrive form-encoded (or as JSON) with a `token` that must be one the operator set in
GUARDIA_MATTERMOST_WEBHOOK_TOKENS. A slash command's text is a command by itself; an
outgoing webhook's is one when it is addressed to the bot (`@guardia ...`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from hub.bot.replies import addressed_text


@dataclass(frozen=True)
class MattermostLine:
    channel: str
    user: str
    #: post_id for an outgoing webhook, trigger_id for a slash command
    event_key: str
    content: str
    command: str | None
    slash: bool


def fields_of(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        loaded = orjson.loads(body)
        if not isinstance(loaded, dict):
            raise ValueError("the body must be a JSON object")
        return loaded
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def token_ok(given: Any, tokens: frozenset[str]) -> bool:
    if not isinstance(given, str) or not given:
        return False
    # compare with every one: how long it takes says nothing about which is close
    return any([hmac.compare_digest(given, t) for t in tokens])


def parse_line(fields: dict[str, Any]) -> MattermostLine | None:
    channel, user, text = fields.get("channel_id"), fields.get("user_id"), fields.get("text")
    if not isinstance(channel, str) or not isinstance(user, str) or not isinstance(text, str):
        return None
    if not channel or not user:
        return None
    text = text.strip()
    if fields.get("command"):
        key = str(fields.get("trigger_id") or "")
        return MattermostLine(channel, user, key, f"@guardia {text}".rstrip(), text, slash=True)
    key = str(fields.get("post_id") or "")
    return MattermostLine(channel, user, key, text, addressed_text(text), slash=False)
