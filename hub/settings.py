"""Hub settings: one typed model read once from `GUARDIA_*` environment variables.

Each field's description is its documentation: `environment_table()` renders them for
docs/operations.md, and a test checks the document lists every variable. A bad value is
refused at start with the variable's name (`SettingsError`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cmdb.database import DEFAULT_DATABASE_URL
from protocol import DEFAULT_MAX_FRAME_BYTES

ENV_PREFIX = "GUARDIA_"
Seconds = Annotated[float, Field(gt=0)]


class SettingsError(ValueError):
    """An environment variable with a value the hub cannot use."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="`sqlite+aiosqlite:///PATH` or `postgresql+asyncpg://user@host/db`",
    )
    data_dir: Path = Field(
        Path("./guardia-data"),
        description="the hub's signing key (`hub.pub` is for agents), uploaded artifacts",
    )
    llm_base_url: str | None = Field(
        None,
        description="an OpenAI-compatible endpoint (Ollama, vLLM); unset: the built-in parser "
        "alone. `GUARDIA_LLM_MODEL` and `GUARDIA_LLM_API_KEY` go with it",
    )
    redis_url: str | None = Field(None, description="set on every hub to run several hubs as one")
    redis_namespace: str = Field(
        "guardia", description="channel and key prefix on Redis, for sites sharing one Redis"
    )
    max_frame_bytes: int = Field(
        DEFAULT_MAX_FRAME_BYTES, ge=1024, description="larger frames close the socket with 1009"
    )
    send_queue_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="a client with more queued than this is not reading and is dropped",
    )
    send_queue_frames: int = Field(
        10_000, ge=10, description="the same limit in frames queued for one client"
    )
    auth_timeout: Seconds = Field(
        10.0, description="seconds a browser has to send its first-frame `AUTH`"
    )
    agent_ping_interval: Seconds = Field(
        20.0,
        description="seconds between keepalive pings on agent links: a link silent for 3x "
        "this is presumed dead, and only then may a second connection with its agent id "
        "replace it (else the second is closed 4409); keep agents' `heartbeat.interval` at or "
        "below it",
    )
    button_ttl: Seconds = Field(24 * 3600.0, description="seconds a button stays pressable")
    approval_ttl: Seconds = Field(30 * 60.0, description="seconds an approval request stays open")
    dispatch_wait: Seconds = Field(
        10 * 60.0, description="seconds a task waits for its agent to connect"
    )
    task_deadline: Seconds = Field(10 * 60.0, description="seconds a task may run")
    max_artifact_bytes: int = Field(
        100 * 1024 * 1024, ge=1, description="the largest artifact upload, in bytes"
    )
    write_batch: int = Field(256, ge=1, description="room messages stored per commit at most")
    rate_per_second: float = Field(
        20.0, gt=0, description="frames a person's socket may send per second (bots: 10x)"
    )
    rate_burst: float = Field(
        60.0, ge=1, description="the burst a socket may save up; over it `RATE_LIMITED`, then 4429"
    )
    agent_rate_per_second: float = Field(
        200.0, gt=0, description="frames an agent may send per second (progress, results, events)"
    )
    agent_rate_burst: float = Field(
        2000.0,
        ge=1,
        description="the burst an agent may save up; over it `RATE_LIMITED`, then 4429",
    )
    persist_messages: bool = Field(
        True, description="store room messages (`0` only to measure what persistence costs)"
    )
    public_url: str | None = Field(
        None,
        description="the hub's address as Mattermost reaches it (`https://guardia.example`), "
        "for the buttons it posts there",
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="the Slack app's signing secret; unset: `/api/slack/*` answers 404"
    )
    slack_bot_token: SecretStr | None = Field(
        None, description="the Slack app's bot token (`xoxb-...`) for posting to linked channels"
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="the Slack Web API base (a proxy, or a test server)"
    )
    mattermost_url: str | None = Field(
        None, description="the Mattermost server (`https://mm.example`) for posting to channels"
    )
    mattermost_token: SecretStr | None = Field(
        None, description="a Mattermost bot's access token for its REST API"
    )
    mattermost_webhook_tokens: SecretStr | None = Field(
        None,
        description="the tokens of the Mattermost outgoing webhooks and slash commands that may "
        "call `/api/mattermost/webhook`, comma-separated; unset: it answers 404",
    )
    bridge_poll_interval: Seconds = Field(
        2.0, description="seconds between a bridge's looks for new links and for work of other hubs"
    )
    bridge_retry_max: Seconds = Field(
        60.0, description="the longest wait, in seconds, between tries of an unreachable messenger"
    )
    header_timeout: Seconds = Field(
        10.0,
        description="seconds a new connection has to send its request line and headers; a "
        "silent or trickling client (slowloris) is closed after it",
    )
    max_connections_per_address: int = Field(
        256,
        ge=0,
        description="connections one client address may hold open at once (behind nginx: the "
        "X-Forwarded-For address); over it HTTP 429. Agents behind one NAT share an address. "
        "`0`: no cap",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1,::1",
        description="comma-separated addresses or networks of the reverse proxy: only from "
        "these are X-Forwarded-For and X-Forwarded-Proto believed",
    )
    incident_dedup_window: Seconds = Field(
        60.0,
        description="seconds within which an application's or log watch's repeated error "
        "(same node, same normalized stack trace) folds into its open incident",
    )
    incident_card_interval: Seconds = Field(
        3.0,
        description="seconds between two ALERT posts of one incident in its room; repeats "
        "in between fold into the next post",
    )
    incident_memory: bool = Field(
        True,
        description="name the most similar earlier incident of the same system on a new "
        "card, with what fixed it (resolved incidents embedded in chromadb, as the proactive "
        "bot's exemplars); `0`: no memory, nothing embedded",
    )
    chroma_url: str | None = Field(
        None,
        description="`http(s)://HOST:PORT` of a `chroma run` server shared by several hubs "
        "(the incident memory, the proactive bot's exemplars); unset: embedded under "
        "`GUARDIA_DATA_DIR/chroma`",
    )
    intake_max_bytes: int = Field(
        1024 * 1024, ge=1024, description="the largest intake request body, in bytes"
    )
    log_format: Literal["json", "text"] = Field(
        "json",
        description="`json`: one JSON object per line on stdout (uvicorn's lines too), with "
        "`task_id`, `room_id`, `agent_id`, `user` on lines about a task; `text`: plain lines",
    )
    metrics: bool = Field(
        True, description="count Prometheus metrics (`0` only to measure what they cost)"
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="the bearer token Prometheus sends to `GET /metrics`; unset: `/metrics` "
        "answers only clients on loopback (127.0.0.0/8, ::1)",
    )
    ops_stuck_after: Seconds = Field(
        300.0,
        description="seconds without a change after which the operations view calls a "
        "queued, dispatched or running task stuck",
    )
    suggest: bool = Field(
        True, description="the proactive bot; `off` (or `0`) turns its suggestions off for a site"
    )
    suggest_cooldown: Seconds = Field(
        600.0,
        description="seconds between two suggestions of one kind in one room; a suggestion "
        "neither pressed nor dismissed within it counts as ignored (its buttons expire then)",
    )
    suggest_mute: Seconds = Field(
        3600.0, description="seconds a room stays quiet after its Mute button is pressed"
    )
    suggest_threads: int = Field(
        1,
        ge=1,
        description="threads one embedding uses (OpenMP, fixed when the model loads); one "
        "leaves the other cores to chat delivery, and OpenMP threads spin when cores are busy",
    )

    @field_validator(
        "llm_base_url",
        "redis_url",
        "chroma_url",
        "public_url",
        "slack_signing_secret",
        "slack_bot_token",
        "mattermost_url",
        "mattermost_token",
        "mattermost_webhook_tokens",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        for item in (i.strip() for i in value.split(",")):
            if item and item != "*":
                ipaddress.ip_network(item, strict=False)  # ValueError names the bad item
        return value

    def secret_values(self) -> list[str]:
        """Every secret setting's value (and the LLM's API key), for the log redaction."""
        values = [
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        ]
        if api_key := os.environ.get(ENV_PREFIX + "LLM_API_KEY"):
            values.append(api_key)
        return values

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^/\s]+/?", value):
            raise ValueError(f"must be http(s)://HOST[:PORT], not {value!r}")
        return value

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """The settings from the environment; SettingsError names each bad variable."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ENV_PREFIX + str(error["loc"][0]).upper() if error["loc"] else "?"
                problems.append(f"{name}: {error['msg']}")
            raise SettingsError("; ".join(problems)) from None


def environment_table() -> str:
    """The variables as a Markdown table (docs/operations.md keeps a copy of it)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None:
            shown = "unset"
        elif isinstance(default, bool):
            shown = f"`{int(default)}`"
        elif isinstance(default, Path) and not default.is_absolute():
            shown = f"`./{default}`"
        else:
            shown = f"`{default}`"
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
