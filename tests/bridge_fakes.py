"""Small servers on loopback that speak as Slack's Web API, Mattermost's REST API and a
messenger's callback URL do, recording what the hub sends; and requests signed as Slack
signs them. They run in the test's own event loop under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import uvicorn
from harness import free_port
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TOKEN = "xoxb-test-token"


class FakeServer:
    """A Starlette app under uvicorn on a fixed port: stopped, it refuses connections."""

    def __init__(self, routes: list[Route]) -> None:
        self.port = free_port()
        self.app = Starlette(routes=routes)
        self.calls: list[dict[str, Any]] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="none",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    async def wait_for(
        self, check: Callable[[list[dict[str, Any]]], Any], timeout: float = 20.0
    ) -> Any:
        """Until check(calls) is truthy; returns what it returned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check(self.calls)
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"not seen within {timeout} s; calls: {self.calls[-8:]}")


class FakeSlack(FakeServer):
    """chat.postMessage, chat.update, chat.postEphemeral; 429 with Retry-After on request."""

    def __init__(self) -> None:
        super().__init__([Route("/api/{method}", self._api, methods=["POST"])])
        self.rate_limited = 0  # answer this many next posts/updates with 429
        self.retry_after = 1
        self._ts = itertools.count(1)

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.headers.get("authorization") != f"Bearer {SLACK_TOKEN}":
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        body = orjson.loads(await request.body())
        call = {"method": method, "at": time.monotonic(), **body}
        if self.rate_limited > 0 and method in ("chat.postMessage", "chat.update"):
            self.rate_limited -= 1
            self.calls.append({**call, "status": 429})
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        self.calls.append({**call, "status": 200})
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            call["ts"] = self.calls[-1]["ts"] = ts
            return JSONResponse({"ok": True, "channel": body["channel"], "ts": ts})
        if method == "chat.update":
            return JSONResponse({"ok": True, "channel": body["channel"], "ts": body["ts"]})
        if method == "chat.postEphemeral":
            return JSONResponse({"ok": True, "message_ts": "1700000000.999999"})
        return JSONResponse({"ok": False, "error": "unknown_method"})

    def posts(self, channel: str = "C1") -> list[dict[str, Any]]:
        return [
            c
            for c in self.calls
            if c["method"] == "chat.postMessage" and c["status"] == 200 and c["channel"] == channel
        ]

    def updates(self, ts: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "chat.update" and c.get("ts") == ts]

    def notices(self, user: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "chat.postEphemeral" and c["user"] == user]


class FakeMattermost(FakeServer):
    BOT_USER = "mmbot0000000000000000000000"

    def __init__(self, token: str) -> None:
        super().__init__(
            [
                Route("/api/v4/users/me", self._me, methods=["GET"]),
                Route("/api/v4/posts", self._post, methods=["POST"]),
                Route("/api/v4/posts/ephemeral", self._ephemeral, methods=["POST"]),
                Route("/api/v4/posts/{post_id}/patch", self._patch, methods=["PUT"]),
            ]
        )
        self.token = token
        self._ids = itertools.count(1)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    async def _me(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "invalid token"}, status_code=401)
        return JSONResponse({"id": self.BOT_USER, "username": "guardia"})

    async def _post(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "invalid token"}, status_code=401)
        body = orjson.loads(await request.body())
        post_id = f"post{next(self._ids):022d}"
        self.calls.append({"call": "create", "id": post_id, **body})
        return JSONResponse({"id": post_id, **body}, status_code=201)

    async def _patch(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.calls.append({"call": "patch", "id": request.path_params["post_id"], **body})
        return JSONResponse({"id": request.path_params["post_id"], **body})

    async def _ephemeral(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.calls.append({"call": "ephemeral", **body})
        return JSONResponse({"id": "ephemeral"}, status_code=201)


class FakeCallback(FakeServer):
    """A messenger's incoming webhook (JANDI's, say): records every JSON body."""

    def __init__(self) -> None:
        super().__init__([Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        self.calls.append(
            {"headers": dict(request.headers), "body": orjson.loads(await request.body())}
        )
        return Response(status_code=200)


@contextlib.asynccontextmanager
async def running(server: FakeServer) -> AsyncIterator[FakeServer]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def slack_signed(
    body: bytes, *, secret: str = SLACK_SECRET, at: float | None = None
) -> dict[str, str]:
    """The headers Slack sends with a request: v0 HMAC-SHA256 over `v0:{ts}:{body}`."""
    ts = str(int(at if at is not None else time.time()))
    sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def slack_event(kind: str, user: str, text: str, *, event_id: str, ts: str) -> bytes:
    return orjson.dumps(
        {
            "token": "legacy-not-used",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"user_id": "UBOT", "is_bot": True}],
            "event": {
                "type": kind,
                "user": user,
                "text": text,
                "ts": ts,
                "channel": "C1",
                "event_ts": ts,
            },
        }
    )


def slack_press(user: str, value: str, message_text: str = "") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "channel": {"id": "C1", "name": "ops"},
        "message": {"text": message_text, "ts": "1"},
        "actions": [{"action_id": value, "value": value, "type": "button"}],
        "response_url": "https://hooks.slack.invalid/actions/1",
    }
    return urlencode({"payload": orjson.dumps(payload).decode()}).encode()


async def post_slack(
    http: httpx.AsyncClient, hub_url: str, path: str, body: bytes, **headers: str
) -> httpx.Response:
    content_type = (
        "application/json" if path.endswith("events") else ("application/x-www-form-urlencoded")
    )
    signed = {"Content-Type": content_type, **slack_signed(body), **headers}
    return await http.post(hub_url + path, content=body, headers=signed)
