"""Posts and cards as Mattermost posts; buttons as interactive message actions.

A button's `integration.url` points back at the hub with a `context` the hub signs: the
hub never trusts a context it did not sign, so a press can name only a button it posted,
in the channel it posted it to.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from hub.bridges.translation import Card
from hub.bridges.wording import status_line, via_title
from hub.i18n import lang_of, pick

MESSAGE_MAX = 16_000
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


class ContextSigner:
    """HMAC-SHA256 over a button's channel and action_id, keyed by a secret of the hub."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, channel_id: str, action_id: str) -> str:
        data = f"{channel_id}\n{action_id}".encode()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def verify(self, context: Any, channel_id: str) -> str | None:
        """The action_id of a context this hub signed for this channel, else None."""
        if not isinstance(context, dict):
            return None
        action_id, sig = context.get("action_id"), context.get("sig")
        if not isinstance(action_id, str) or not isinstance(sig, str):
            return None
        if context.get("channel_id") != channel_id:
            return None
        return action_id if hmac.compare_digest(self.sign(channel_id, action_id), sig) else None


class MattermostFormat:
    def __init__(self, signer: ContextSigner, action_url: str | None) -> None:
        self._signer = signer
        #: where Mattermost posts a press: GUARDIA_PUBLIC_URL + /api/mattermost/actions
        self._action_url = action_url

    def _props(self, channel_id: str, buttons: list[dict[str, str]], lang: str) -> dict[str, Any]:
        if not buttons or self._action_url is None:
            return {"attachments": []}
        actions = [
            {
                # Mattermost wants a plain alphanumeric id per action of a post
                "id": _NOT_ALNUM.sub("", f"g{i}{b['code']}")[:60],
                "name": b["label"],
                "type": "button",
                "style": b.get("style") if b.get("style") in ("primary", "danger") else "default",
                "integration": {
                    "url": self._action_url,
                    "context": {
                        "action_id": b["action_id"],
                        "channel_id": channel_id,
                        "sig": self._signer.sign(channel_id, b["action_id"]),
                        "lang": lang,  # wording only: not signed, trusted for nothing
                    },
                },
            }
            for i, b in enumerate(buttons[:10])
        ]
        return {"attachments": [{"text": "", "actions": actions}]}

    def _no_buttons_note(self, buttons: list[dict[str, str]], lang: str) -> str:
        if not buttons or self._action_url is not None:
            return ""
        return (
            "\n_"
            + pick(
                lang,
                "버튼은 GUARDiA 웹 앱에서 누르세요.",
                "Press the buttons in the GUARDiA web app.",
            )
            + "_"
        )

    def post(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        text = body["text"]
        lang = lang_of(text)
        if body.get("level") == "error":
            text = f":warning: {text}"
        if body.get("sender_type") in ("HUMAN", "BOT") and body.get("sender") != "GUARDiA-Bot":
            via = via_title(body.get("via"))
            text = f"**{body['sender']}**{f' _(via {via})_' if via else ''}: {text}"
        buttons = body.get("buttons") or []
        return {
            "message": (text + self._no_buttons_note(buttons, lang))[:MESSAGE_MAX],
            "props": self._props(channel_id, buttons, lang),
        }

    def card(self, channel_id: str, state: Card) -> dict[str, Any]:
        lang = state.get("lang", "en")
        lines = [state["head"]]
        line = status_line(state.get("status"), lang)
        if line is not None:
            note = state.get("note")
            lines.append(f"**{line}**" + (f" · {note}" if note else ""))
        for r in state.get("results") or []:
            summary = f": {r['summary']}" if r.get("summary") else ""
            lines.append(f"{'✅' if r['ok'] else '❌'} `{r['node']}` {r['action']}{summary}")
        buttons = state.get("buttons") or []
        return {
            "message": ("\n".join(lines) + self._no_buttons_note(buttons, lang))[:MESSAGE_MAX],
            "props": self._props(channel_id, buttons, lang),
        }
