"""Hub settings, read once from the environment (operations.md lists the variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cmdb.database import database_url
from protocol import DEFAULT_MAX_FRAME_BYTES


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url)
    #: frames over this close the socket with 1009
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    #: bytes a connection may have queued before it counts as a slow reader and is dropped
    send_queue_bytes: int = 1024 * 1024
    send_queue_frames: int = 10_000
    #: seconds a browser has to send its first-frame AUTH
    auth_timeout: float = 10.0
    #: seconds between the hub's PINGs to agents
    agent_ping_interval: float = 20.0
    #: how long a button stays pressable
    button_ttl: float = 24 * 3600.0
    approval_ttl: float = 30 * 60.0
    #: how long a task for an offline agent waits for it
    dispatch_wait: float = 10 * 60.0
    task_deadline: float = 10 * 60.0
    max_artifact_bytes: int = 100 * 1024 * 1024
    data_dir: Path = Path("./guardia-data")
    llm_base_url: str | None = None
    redis_url: str | None = None
    #: channel and key prefix on Redis, for sites (or tests) sharing one Redis
    redis_namespace: str = "guardia"
    #: messages written per commit at most, when senders outpace the database
    write_batch: int = 256
    #: frames per second a chat connection may send, and the burst it may save up
    rate_per_second: float = 20.0
    rate_burst: float = 60.0
    #: store room messages (off only to measure what persistence costs, in bench/)
    persist_messages: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_frame_bytes=_int("GUARDIA_MAX_FRAME_BYTES", DEFAULT_MAX_FRAME_BYTES),
            send_queue_bytes=_int("GUARDIA_SEND_QUEUE_BYTES", 1024 * 1024),
            send_queue_frames=_int("GUARDIA_SEND_QUEUE_FRAMES", 10_000),
            auth_timeout=_float("GUARDIA_AUTH_TIMEOUT", 10.0),
            agent_ping_interval=_float("GUARDIA_AGENT_PING_INTERVAL", 20.0),
            button_ttl=_float("GUARDIA_BUTTON_TTL", 24 * 3600.0),
            approval_ttl=_float("GUARDIA_APPROVAL_TTL", 30 * 60.0),
            dispatch_wait=_float("GUARDIA_DISPATCH_WAIT", 10 * 60.0),
            task_deadline=_float("GUARDIA_TASK_DEADLINE", 10 * 60.0),
            max_artifact_bytes=_int("GUARDIA_MAX_ARTIFACT_BYTES", 100 * 1024 * 1024),
            data_dir=Path(os.environ.get("GUARDIA_DATA_DIR", "./guardia-data")),
            llm_base_url=os.environ.get("GUARDIA_LLM_BASE_URL") or None,
            redis_url=os.environ.get("GUARDIA_REDIS_URL") or None,
            redis_namespace=os.environ.get("GUARDIA_REDIS_NAMESPACE", "guardia"),
            write_batch=_int("GUARDIA_WRITE_BATCH", 256),
            rate_per_second=_float("GUARDIA_RATE_PER_SECOND", 20.0),
            rate_burst=_float("GUARDIA_RATE_BURST", 60.0),
            persist_messages=os.environ.get("GUARDIA_PERSIST_MESSAGES", "1") != "0",
        )
