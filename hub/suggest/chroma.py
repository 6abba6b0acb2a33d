"""The process's chromadb client: one per target, shared by every collection of the hub.

chromadb refuses two differently-configured clients for one path, and each client of an
embedded store holds its own SQLite connections and HNSW indexes in memory: the exemplar
store (store.py) and the incident memory (incidents.py) take their client from here.

Where it lives: `chromadb.PersistentClient(<data_dir>/chroma)` by default;
`chromadb.HttpClient` when a URL is given (GUARDIA_CHROMA_URL); an in-memory client with
neither. Telemetry is off: nothing dials out.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings
from chromadb.errors import ChromaError

from hub.suggest.exceptions import StoreUnavailable

#: what a chromadb call may raise when its store is unusable (a server away, a bad file)
STORE_ERRORS = (ChromaError, httpx.HTTPError, ValueError, OSError)
MEMORY = ":memory:"

_clients: dict[str, ClientAPI] = {}
_lock = threading.Lock()


def _settings() -> Settings:
    return Settings(anonymized_telemetry=False)


def target_of(data_dir: Path | str | None, chroma_url: str | None) -> str:
    """The key a store is known by: the server's URL, the resolved directory, or :memory:."""
    if chroma_url:
        return chroma_url.rstrip("/")
    if data_dir is not None:
        return str((Path(data_dir) / "chroma").resolve())
    return MEMORY


def _http_client(url: str) -> ClientAPI:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreUnavailable(f"GUARDIA_CHROMA_URL must be http(s)://HOST[:PORT], not {url!r}")
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    try:
        return chromadb.HttpClient(host=parts.hostname, port=port, ssl=ssl, settings=_settings())
    except STORE_ERRORS as exc:
        raise StoreUnavailable(f"no chromadb server answers at {url}: {exc}") from exc


def chroma_client(data_dir: Path | str | None, chroma_url: str | None = None) -> ClientAPI:
    """The process's client for this target, made on first use (thread-safe)."""
    target = target_of(data_dir, chroma_url)
    with _lock:
        client = _clients.get(target)
        if client is None:
            made: Any
            if chroma_url:
                made = _http_client(target)
            elif target != MEMORY:
                Path(target).mkdir(parents=True, exist_ok=True)
                made = chromadb.PersistentClient(path=target, settings=_settings())
            else:
                made = chromadb.EphemeralClient(settings=_settings())
            client = _clients[target] = made
        return client
