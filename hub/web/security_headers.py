"""HTTP response headers that a meta tag cannot set: policy, framing, transport, caching.

The Content-Security-Policy header carries the same policy as the meta tag in
static/index.html (a test compares them) plus `frame-ancestors`, which only a header can
set. HSTS goes out when the request came over HTTPS: directly, or through a proxy in
`GUARDIA_FORWARDED_ALLOW_IPS` that said so in X-Forwarded-Proto (uvicorn turns that into
the scope's scheme); over plain HTTP a browser ignores it anyway (RFC 6797 8.1). Behind the
repository's nginx, nginx sends HSTS itself and hides the hub's, so there is one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the web app's policy: everything from the hub itself, nothing inline, no plugins
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
CONTENT_SECURITY_POLICY = PAGE_POLICY + "; frame-ancestors 'none'"
HSTS = b"max-age=31536000; includeSubDomains"

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
#: static files: a browser may keep them but must ask whether a release changed them
NO_CACHE = (b"cache-control", b"no-cache")
#: API answers carry data a reader is allowed to see now: never kept by a browser or proxy
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Adds HEADERS to every HTTP response, HSTS over HTTPS, and the caching rule."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS))
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (is_api and k == NO_STORE[0])
                ]
                headers += extra
                if is_api:
                    headers.append(NO_STORE)
                elif not any(k == NO_CACHE[0] for k, _ in headers):
                    headers.append(NO_CACHE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
