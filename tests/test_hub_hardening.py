"""Slow and greedy clients against the real hub and nginx: header deadline, per-address cap,
nginx's limits, and the response headers (CSP, HSTS, no server banner, no-store on the API)."""

from __future__ import annotations

import asyncio
import datetime
import http.client
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from conftest import unavailable
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness import NGINX, REPO, Database, HubProcess, NginxProcess

from hub.settings import Settings
from hub.web.security_headers import CONTENT_SECURITY_POLICY, PAGE_POLICY

SLOW_SOCKETS = 50


def needs_nginx() -> None:
    if not os.path.exists(NGINX):
        unavailable("Debian's nginx")


def connect_from(source: str, port: int) -> socket.socket:
    """A TCP connection from another loopback address (all of 127/8 is this machine)."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


async def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the peer closed the socket (reading whatever it said), None if it did not."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    start = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            while await loop.sock_recv(sock, 4096):
                pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def self_signed(workdir: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "tls.crt", workdir / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def capped_hub(sqlite_db: Database, tmp_path: Path) -> AsyncIterator[HubProcess]:
    """A hub whose per-address cap is 3, so a test can reach it."""
    (tmp_path / "hub").mkdir()
    hub = HubProcess(sqlite_db, tmp_path / "hub", GUARDIA_MAX_CONNECTIONS_PER_ADDRESS="3")
    await hub.start()
    yield hub
    hub.stop()


# -- slow clients -------------------------------------------------------------------------


@pytest.mark.slow
async def test_slow_header_sockets_and_a_silent_socket_are_closed_by_the_default_deadline(
    hub: HubProcess, tmp_path: Path
) -> None:
    """With the default settings (10 s) on the hub, and nginx's own client_header_timeout."""
    needs_nginx()
    assert Settings().header_timeout <= 15
    nginx = NginxProcess(tmp_path, [hub.port])
    await nginx.start()
    try:
        sockets = []
        for port in (hub.port, nginx.port):
            for _ in range(SLOW_SOCKETS):
                sock = connect_from("127.0.0.2", port)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
                sockets.append(sock)
            sockets.append(connect_from("127.0.0.2", port))  # says nothing at all

        async def trickle() -> None:  # one byte a second: each byte is news, not a request
            while True:
                for sock in sockets[:: SLOW_SOCKETS + 1]:
                    sock.send(b"X")
                await asyncio.sleep(1)

        trickler = asyncio.create_task(trickle())
        closed = await asyncio.gather(*(closed_within(s, 20) for s in sockets))
        trickler.cancel()
    finally:
        nginx.stop()
        for sock in sockets:
            sock.close()
    assert all(t is not None for t in closed), f"{closed.count(None)} sockets still open at 20 s"
    assert max(t for t in closed if t is not None) < 15
    # the hub still serves
    async with httpx.AsyncClient() as client:
        assert (await client.get(hub.http + "/api/health")).status_code == 200


async def test_a_trickled_request_gets_408_and_a_prompt_one_is_served(
    sqlite_db: Database, tmp_path: Path
) -> None:
    hub = HubProcess(sqlite_db, tmp_path, GUARDIA_HEADER_TIMEOUT="1")
    await hub.start()
    try:
        with connect_from("127.0.0.1", hub.port) as slow:
            slow.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
            slow.settimeout(5)
            assert slow.recv(4096).startswith(b"HTTP/1.1 408 ")
        # a kept-alive connection gets a fresh deadline for its next request, not a used one
        kept = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=5)
        kept.connect()
        first_socket = kept.sock
        for _ in range(3):
            time.sleep(0.6)  # together longer than the deadline
            kept.request("GET", "/api/health")
            assert kept.getresponse().read() and kept.sock is first_socket
        kept.close()
        # a WebSocket lives past the deadline: it is not a request in progress
        async with websockets.connect(hub.ws + "/ws/chat") as ws:
            await asyncio.sleep(1.5)
            await ws.ping()
    finally:
        hub.stop()


# -- connections per address ---------------------------------------------------------------


async def test_one_address_holds_at_most_the_cap_and_others_are_served(
    capped_hub: HubProcess,
) -> None:
    hub = capped_hub
    held = [connect_from("127.0.0.2", hub.port) for _ in range(3)]
    try:
        with connect_from("127.0.0.2", hub.port) as over:
            over.settimeout(5)
            refusal = over.recv(4096)
            assert refusal.startswith(b"HTTP/1.1 429 ")
            assert b"too many connections from your address (limit 3)" in refusal
            assert over.recv(4096) == b""  # and closed
        # a forged X-Forwarded-For from a peer that is not the proxy changes nothing
        with connect_from("127.0.0.2", hub.port) as forged:
            forged.settimeout(5)
            forged.sendall(
                b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n"
            )
            assert forged.recv(4096).startswith(b"HTTP/1.1 429 ")
        # another address is not affected
        async with httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.3")
        ) as c:
            assert (await c.get(hub.http + "/api/health")).status_code == 200
        # WebSockets count too, and a slot comes back when its socket closes
        held.pop().close()
        await asyncio.sleep(0.2)
        async with websockets.connect(hub.ws + "/ws/chat", local_addr=("127.0.0.2", 0)):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(hub.ws + "/ws/chat", local_addr=("127.0.0.2", 0))
            assert refused.value.response.status_code == 429
        await asyncio.sleep(0.2)
        async with websockets.connect(hub.ws + "/ws/chat", local_addr=("127.0.0.2", 0)):
            pass
    finally:
        for sock in held:
            sock.close()


async def test_behind_nginx_the_cap_counts_the_forwarded_address_not_nginx(
    capped_hub: HubProcess, tmp_path: Path
) -> None:
    needs_nginx()
    nginx = NginxProcess(tmp_path, [capped_hub.port])
    await nginx.start()
    try:
        url = nginx.ws + "/ws/chat"
        async with websockets.connect(url, local_addr=("127.0.0.2", 0)) as first:
            others = [await websockets.connect(url, local_addr=("127.0.0.2", 0)) for _ in range(2)]
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(url, local_addr=("127.0.0.2", 0))
            assert refused.value.response.status_code == 429
            assert b"too many connections" in refused.value.response.body
            # nginx (127.0.0.1) now holds 3 upstream sockets and opens more for 127.0.0.3
            fresh = [await websockets.connect(url, local_addr=("127.0.0.3", 0)) for _ in range(3)]
            for ws in [*others, *fresh]:
                await ws.close()
            await first.ping()
    finally:
        nginx.stop()


async def test_nginx_limits_the_request_rate_of_one_address(
    hub: HubProcess, tmp_path: Path
) -> None:
    needs_nginx()
    nginx = NginxProcess(tmp_path, [hub.port])
    await nginx.start()
    try:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=transport) as client:
            answers = await asyncio.gather(
                *(client.get(nginx.http + "/api/health") for _ in range(150))
            )
        codes = [a.status_code for a in answers]
        async with httpx.AsyncClient() as other:
            fine = await other.get(nginx.http + "/api/health")
    finally:
        nginx.stop()
    assert codes.count(200) >= 60  # the burst
    assert codes.count(429) >= 40  # the rest, at 20/s
    assert set(codes) <= {200, 429}
    assert fine.status_code == 200  # another address has its own budget


def test_the_production_nginx_config_parses(tmp_path: Path) -> None:
    """nginx -t on nginx/guardia.conf as shipped, with its /etc paths pointed here."""
    needs_nginx()
    cert, key = self_signed(tmp_path)
    text = (REPO / "nginx" / "guardia.conf").read_text()
    text = text.replace("/etc/nginx/", f"{REPO / 'nginx'}/")
    text = text.replace("/etc/guardia/tls/fullchain.pem", str(cert))
    text = text.replace("/etc/guardia/tls/privkey.pem", str(key))
    (tmp_path / "guardia.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  include {tmp_path / 'guardia.conf'};\n}}\n"
    )
    check = subprocess.run(
        [NGINX, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


# -- response headers ----------------------------------------------------------------------


async def test_every_answer_carries_the_policy_and_api_answers_are_not_stored(
    hub: HubProcess,
) -> None:
    html = (REPO / "hub" / "web" / "static" / "index.html").read_text()
    [meta] = re.findall(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    assert meta == PAGE_POLICY  # the header and the page say the same
    async with httpx.AsyncClient() as client:
        answers = {
            "/": await client.get(hub.http + "/"),
            "/api/health": await client.get(hub.http + "/api/health"),
            "/api/ready": await client.get(hub.http + "/api/ready"),
            "/api/rooms (401)": await client.get(hub.http + "/api/rooms"),
            "/api/tasks/x (401)": await client.get(hub.http + "/api/tasks/x"),
            "/api/nothing (404)": await client.get(hub.http + "/api/nothing"),
        }
    for path, answer in answers.items():
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "server" not in answer.headers, path
        assert "strict-transport-security" not in answer.headers, path  # plain HTTP
        expected = "no-store" if path.startswith("/api/") else "no-cache"
        assert answer.headers.get_list("cache-control") == [expected], path


async def test_hsts_only_when_the_proxy_says_https(capped_hub: HubProcess) -> None:
    hub = capped_hub
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"}
    async with httpx.AsyncClient() as trusted:  # from 127.0.0.1, the trusted proxy
        told = await trusted.get(hub.http + "/api/health", headers=proxied)
    untrusted = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(transport=untrusted) as client:
        forged = await client.get(hub.http + "/api/health", headers=proxied)
    assert told.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in forged.headers


async def test_behind_nginx_with_tls_there_is_exactly_one_hsts_header(
    hub: HubProcess, tmp_path: Path
) -> None:
    needs_nginx()
    cert, key = self_signed(tmp_path)
    tls = NginxProcess(tmp_path / "tls", [hub.port], tls=(cert, key))
    plain = NginxProcess(tmp_path / "plain", [hub.port])
    for nginx in (tls, plain):
        nginx.workdir.mkdir()
        await nginx.start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=context) as client:
            secure = [await client.get(tls.http + path) for path in ("/", "/api/health")]
            missing = await client.get(tls.http + "/api/nothing")
        async with httpx.AsyncClient() as client:
            cleartext = await client.get(plain.http + "/api/health")
        async with websockets.connect(tls.ws + "/ws/chat", ssl=context) as ws:
            await ws.ping()  # WebSockets through TLS still upgrade
    finally:
        tls.stop()
        plain.stop()
    for answer in [*secure, missing]:
        assert answer.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"
        ]
        assert "server" not in answer.headers or "uvicorn" not in answer.headers["server"]
    assert "strict-transport-security" not in cleartext.headers
