"""Sending to the other side: Slack's Web API, Mattermost's REST API, a callback URL.

Each sender takes one outbox row (`op`, `body`, and for a card the id of the message it
already posted) and returns the id of what it posted. Failures are sorted in one place per
sender: `RetryLater` (down, rate-limited: the lane waits and tries the same row again) or
`Undeliverable` (this message itself was refused: the lane drops it and goes on).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from hub.bridges import slack_format
from hub.bridges.exceptions import RetryLater, Undeliverable
from hub.bridges.integrations import IntegrationAuth
from hub.bridges.mattermost_format import MattermostFormat
from hub.bridges.messenger_format import FORMATS, JANDI_HEADERS

if TYPE_CHECKING:  # aiohttp and slack_sdk are loaded once Slack is configured and used
    import aiohttp
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("guardia.hub.bridges")

#: Slack errors about this one message: trying it again will not help
_SLACK_MESSAGE_ERRORS = {
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "invalid_arguments",
    "too_many_attachments",
    "user_not_in_channel",
}
_SLACK_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}
TIMEOUT = 10.0


class Sender(Protocol):
    async def send(
        self, channel: str, op: str, body: dict[str, Any], remote_id: str | None
    ) -> str | None: ...

    async def aclose(self) -> None: ...


def retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After (or Mattermost's X-RateLimit-Reset) header."""
    for name in ("Retry-After", "X-RateLimit-Reset"):
        value = headers.get(name) if headers is not None else None
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


class SlackSender:
    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        self._api_url = api_url
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    def _web(self) -> AsyncWebClient:
        if self._client is None:
            import aiohttp
            from slack_sdk.web.async_client import AsyncWebClient

            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
            # the lane's queue is the one retry policy: no retries inside the client
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._api_url,
                session=self._session,
                timeout=int(TIMEOUT),
                retry_handlers=[],
            )
        return self._client

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self, channel: str, op: str, body: dict[str, Any], remote_id: str | None
    ) -> str | None:
        import aiohttp
        from slack_sdk.errors import SlackApiError

        web = self._web()
        try:
            if op == "notice":
                await web.chat_postEphemeral(channel=channel, user=body["user"], text=body["text"])
                return None
            text, blocks = slack_format.card(body) if op == "card" else slack_format.post(body)
            if op == "card" and remote_id is not None:
                try:
                    await web.chat_update(channel=channel, ts=remote_id, text=text, blocks=blocks)
                    return remote_id
                except SlackApiError as exc:
                    if exc.response.get("error") not in _SLACK_GONE:
                        raise
                    # deleted or too old to edit in Slack: the card starts again below
            answer = await web.chat_postMessage(channel=channel, text=text, blocks=blocks)
            return str(answer["ts"])
        except SlackApiError as exc:
            raise self._sorted(exc) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise RetryLater(f"Slack unreachable: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def _sorted(exc: SlackApiError) -> RetryLater | Undeliverable:
        response = exc.response
        status = response.status_code
        error = response.get("error") if isinstance(response.data, dict) else None
        if status == 429 or error == "ratelimited":
            return RetryLater("Slack rate limit", retry_after(response.headers) or 1.0)
        if status == 200 and error in _SLACK_MESSAGE_ERRORS:
            return Undeliverable(f"Slack refused the message: {error}")
        # the rest (5xx, a token or a channel to fix) may be put right: wait for it
        return RetryLater(f"Slack answered {status} {error or ''}".strip())


class MattermostSender:
    def __init__(self, url: str, token: str, fmt: MattermostFormat) -> None:
        self._http = httpx.AsyncClient(
            base_url=url.rstrip("/") + "/api/v4/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
        self._format = fmt
        self._me: str | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def own_user_id(self) -> str | None:
        """The bot's own user id, so that its own posts coming back are not taken as said."""
        if self._me is None:
            try:
                answer = await self._http.get("users/me")
                if answer.status_code == 200:
                    self._me = str(answer.json()["id"])
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("Mattermost users/me failed: %s", exc)
        return self._me

    async def send(
        self, channel: str, op: str, body: dict[str, Any], remote_id: str | None
    ) -> str | None:
        try:
            if op == "notice":
                post = {"channel_id": channel, "message": body["text"]}
                answer = await self._http.post(
                    "posts/ephemeral", json={"user_id": body["user"], "post": post}
                )
                self._check(answer)
                return None
            if op == "card":
                rendered = self._format.card(channel, body)
                if remote_id is not None:
                    answer = await self._http.put(f"posts/{remote_id}/patch", json=rendered)
                    if answer.status_code != 404:  # deleted there: the card starts again
                        self._check(answer)
                        return remote_id
            else:
                rendered = self._format.post(channel, body)
            answer = await self._http.post("posts", json={"channel_id": channel, **rendered})
            self._check(answer)
            return str(answer.json()["id"])
        except httpx.HTTPError as exc:
            raise RetryLater(f"Mattermost unreachable: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def _check(answer: httpx.Response) -> None:
        status = answer.status_code
        if status < 300:
            return
        if status == 429:
            raise RetryLater("Mattermost rate limit", retry_after(answer.headers) or 1.0)
        if status in (400, 413):
            raise Undeliverable(f"Mattermost refused the message: {status} {answer.text[:200]}")
        raise RetryLater(f"Mattermost answered {status}")


class CallbackSender:
    """Posts to the callback URL of the messenger integration a lane is named after."""

    def __init__(self, integrations: IntegrationAuth) -> None:
        self._integrations = integrations
        self._http = httpx.AsyncClient(timeout=TIMEOUT)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, channel: str, op: str, body: dict[str, Any], remote_id: str | None
    ) -> str | None:
        integration = await self._integrations.named(channel)
        if integration is None or not integration.callback_url:
            raise Undeliverable(f"integration {channel} is gone, revoked or has no callback")
        render = FORMATS.get(integration.format, FORMATS["json"])
        headers = JANDI_HEADERS if integration.format == "jandi" else {}
        try:
            answer = await self._http.post(
                integration.callback_url, json=render(body), headers=headers
            )
        except httpx.HTTPError as exc:
            raise RetryLater(f"callback unreachable: {type(exc).__name__}: {exc}") from None
        if answer.status_code == 429:
            raise RetryLater("callback rate limit", retry_after(answer.headers) or 1.0)
        if answer.status_code >= 500 or answer.status_code in (408, 425):
            raise RetryLater(f"callback answered {answer.status_code}")
        if answer.status_code >= 400:
            raise Undeliverable(f"callback refused the message: {answer.status_code}")
        return None
