"""Slack's Events API and interactivity payloads, as the lines and presses they are.

Only what a person wrote counts: bot messages (ours coming back, too) and edits, joins and
other subtypes are not lines. A message that starts with a mention of our bot is a command;
so is an `app_mention`. Slack sends both for the same post: they share the post's channel
and `ts`, which the endpoint remembers as well as the `event_id`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from hub.bot.replies import addressed_text
from hub.i18n import lang_of

_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s,:]*")
_LABELLED = re.compile(r"<[^<>|]+\|([^<>]+)>")
_BARE = re.compile(r"<([@#!]?)([^<>|]+)>")
_LINE_SUBTYPES = {None, "file_share", "thread_broadcast"}


@dataclass(frozen=True)
class SlackLine:
    event_id: str
    channel: str
    user: str
    ts: str
    #: the line as the room stores it ("@guardia ..." when it is a command)
    content: str
    command: str | None


@dataclass(frozen=True)
class SlackPress:
    channel: str
    user: str
    action_ids: list[str]
    lang: str


def plain_text(text: str) -> str:
    """Slack's markup to what a person typed: `<url|label>` -> label, entities unescaped."""
    text = _LABELLED.sub(r"\1", text)
    text = _BARE.sub(lambda m: ("@" if m.group(1) == "@" else "") + m.group(2), text)
    return html.unescape(text).strip()


def parse_event(payload: dict[str, Any]) -> SlackLine | None:
    """The line an `event_callback` carries, or None when it is nothing to take in."""
    event = payload.get("event")
    if payload.get("type") != "event_callback" or not isinstance(event, dict):
        return None
    kind = event.get("type")
    if kind not in ("app_mention", "message") or event.get("bot_id"):
        return None
    if event.get("subtype") not in _LINE_SUBTYPES:
        return None
    fields = [payload.get("event_id"), event.get("channel"), event.get("user"), event.get("ts")]
    text = event.get("text")
    if not all(isinstance(f, str) and f for f in fields) or not isinstance(text, str):
        return None
    event_id, channel, user, ts = (str(f) for f in fields)
    bots = {
        a.get("user_id")
        for a in payload.get("authorizations") or []
        if isinstance(a, dict) and a.get("is_bot")
    }
    mention = _LEADING_MENTION.match(text)
    mentioned = [b for b in bots if isinstance(b, str) and f"<@{b}" in text]
    if mention and (kind == "app_mention" or mention.group(1) in bots):
        command: str | None = plain_text(text[mention.end() :])
        content = f"@guardia {command}".rstrip()
    elif kind == "app_mention" or mentioned:
        # the bot named mid-sentence: still a command, whichever of the two events comes first
        who = re.escape(mentioned[0]) if mentioned else "[A-Z0-9]+"
        unnamed = re.sub(rf"\s*<@{who}(?:\|[^>]*)?>[\s,:]*", " ", text, count=1)
        command = plain_text(unnamed)
        content = f"@guardia {command}".rstrip()
    else:
        content = plain_text(text)
        command = addressed_text(content)
    return SlackLine(event_id, channel, user, ts, content, command)


def parse_press(body: bytes) -> SlackPress | None:
    """The button presses of a `block_actions` payload (form-encoded `payload=`)."""
    raw = parse_qs(body.decode("utf-8", "replace")).get("payload")
    if not raw:
        raise ValueError("no payload field in the form")
    payload = orjson.loads(raw[0])
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    user = (payload.get("user") or {}).get("id")
    channel = (payload.get("channel") or {}).get("id")
    if not isinstance(user, str) or not isinstance(channel, str):
        return None
    action_ids = [
        a["value"]
        for a in payload.get("actions") or []
        if isinstance(a, dict) and isinstance(a.get("value"), str)
    ]
    text = (payload.get("message") or {}).get("text") or ""
    return SlackPress(channel, user, action_ids, lang_of(text if isinstance(text, str) else ""))
