"""agent.yaml (operations.md, "Agent configuration") as validated, frozen models.

The customer who runs the agent owns this file: it, not the hub, decides which nodes exist,
which services they run and which command each service action runs. A bad file is refused at
start with the line and the reason of each problem.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    ValidationError,
    field_validator,
)

from agent.exceptions import ConfigError, ConfigProblem
from agent.patterns import AbsolutePath, ActionCode, HostName, NodeCode, ServiceName, UserName
from agent.yaml_source import YamlSource, read_yaml
from protocol.messages import Severity

Seconds = Annotated[float, Field(gt=0, le=86_400)]
Command = Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^[^\x00]*$")]
LocalPath = Annotated[Path, AfterValidator(lambda p: p.expanduser())]
HealthUrl = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s]*)?$")]
DbKind = Literal["postgresql", "mysql", "mariadb", "oracle"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SshNode(_Section):
    transport: Literal["ssh"]
    host: HostName
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    user: UserName
    #: None: the agent's own default keys (~/.ssh/id_*) and ssh-agent
    key_file: LocalPath | None = None


class LocalNode(_Section):
    transport: Literal["local"]


NodeConfig = Annotated[SshNode | LocalNode, Discriminator("transport")]


class ServiceConfig(_Section):
    """What each service action runs for one service name of the CMDB."""

    restart: Command | None = None
    status: Command | None = None
    health_url: HealthUrl | None = None
    #: how long a health check after a restart or deploy keeps retrying
    health_timeout: Seconds = 30.0
    deploy_path: AbsolutePath | None = None
    log_path: AbsolutePath | None = None
    #: the database behind this service, for FETCH_DB_LOCKS
    kind: DbKind | None = None
    #: the database client command on the node; the query goes to its standard input
    client: Command | None = None
    #: a step timeout for this service's actions, instead of the global step_timeout
    timeout: Seconds | None = None

    def restart_command(self, name: str) -> str:
        return self.restart or f"systemctl restart {shlex.quote(name)}"

    def status_command(self, name: str) -> str:
        return self.status or f"systemctl is-active {shlex.quote(name)}"


class ReconnectConfig(_Section):
    initial_delay: Seconds = 1.0
    max_delay: Seconds = 60.0
    #: a connection that stayed up this long resets the backoff
    stable_after: Seconds = 30.0
    #: after close 4409 (another process connected with this agent's id): the first retry
    #: waits 1-1.5 x conflict_delay, doubling up to conflict_max_delay
    conflict_delay: Seconds = 60.0
    conflict_max_delay: Seconds = 600.0


class HeartbeatConfig(_Section):
    """Keepalives: WebSocket pings (websockets' ping_interval and ping_timeout), and a
    protocol `PING` frame every `interval`, by which the hub knows this link is alive (keep
    it at or below the hub's GUARDIA_AGENT_PING_INTERVAL)."""

    interval: Seconds = 20.0
    timeout: Seconds = 20.0


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return pattern


Regex = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_compiles)]


class WatchConfig(_Section):
    """A log file to follow on a node: a line matching one of `patterns` (Python regular
    expressions, searched anywhere in the line) becomes an AGENT_EVENT."""

    node: NodeCode
    service: ServiceName
    #: default: the service's log_path
    path: AbsolutePath | None = None
    patterns: Annotated[list[Regex], Field(min_length=1, max_length=50)]
    #: seconds between two events of this watch; matches in between are folded
    min_interval: Seconds = 60.0
    severity: Severity = "HIGH"
    #: lines after the matching one sent with it (a stack trace), within a second
    context_lines: Annotated[int, Field(ge=0, le=49)] = 5

    def log_path(self, config: AgentConfig) -> str:
        """The file followed (the references check made sure there is one)."""
        service = config.services.get(self.service)
        path = self.path or (service.log_path if service is not None else None)
        assert path is not None
        return path


class AgentConfig(_Section):
    known_hosts: LocalPath | None = None
    #: the pinned hub key (PEM); default agent-<id>.hub.pub beside the outbox
    hub_public_key: LocalPath | None = None
    #: allowlist of action codes; None: the whole catalog
    actions: list[ActionCode] | None = None
    #: default ~/.guardia/agent-<id>.outbox.sqlite
    outbox: LocalPath | None = None
    #: results kept for the hub, at most; the oldest unacknowledged go first beyond it
    outbox_max_results: Annotated[int, Field(ge=10, le=1_000_000)] = 1000
    #: events kept for the hub, at most; the oldest unacknowledged go first beyond it
    outbox_max_events: Annotated[int, Field(ge=10, le=1_000_000)] = 1000
    max_concurrency: Annotated[int, Field(ge=1, le=256)] = 10
    step_timeout: Seconds = 300.0
    connect_timeout: Seconds = 10.0
    shutdown_grace: Annotated[float, Field(ge=0, le=3600)] = 30.0
    max_artifact_bytes: Annotated[int, Field(ge=1)] = 1024**3
    reconnect: ReconnectConfig = ReconnectConfig()
    heartbeat: HeartbeatConfig = HeartbeatConfig()
    nodes: dict[NodeCode, NodeConfig] = Field(default_factory=dict)
    services: dict[ServiceName, ServiceConfig] = Field(default_factory=dict)
    #: log files followed for AGENT_EVENTs
    watch: list[WatchConfig] = Field(default_factory=list)

    @field_validator("services", mode="before")
    @classmethod
    def _empty_service_means_defaults(cls, value: Any) -> Any:
        """`tomcat:` with nothing after it means the same as `tomcat: {}`."""
        if isinstance(value, dict):
            return {name: {} if entry is None else entry for name, entry in value.items()}
        return value

    def allowed_actions(self, catalog: Collection[str]) -> list[str]:
        """The catalog after the allowlist, in catalog order."""
        if self.actions is None:
            return list(catalog)
        return [code for code in catalog if code in self.actions]


_ERROR_WORDS = {
    "missing": "required",
    "extra_forbidden": "unknown key (a typo?)",
    "union_tag_not_found": "transport is required: 'ssh' or 'local'",
    "union_tag_invalid": "transport must be 'ssh' or 'local'",
}


def parse_config(text: str, *, path: str, known_actions: Collection[str]) -> AgentConfig:
    """Validate a config text; raise ConfigError with the line and reason of each problem."""
    source = read_yaml(text, path)
    data = {} if source.data is None else source.data
    if not isinstance(data, dict):
        raise ConfigError(path, [ConfigProblem(1, "the config must be a mapping of keys")])
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(source, err["loc"], err["type"], err["msg"]) for err in exc.errors()]
        raise ConfigError(path, sorted(problems, key=lambda p: p.line)) from None
    problems = _check_references(config, source, known_actions)
    if problems:
        raise ConfigError(path, problems)
    return config


def load_config(path: Path, *, known_actions: Collection[str]) -> AgentConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [ConfigProblem(1, f"cannot read the file: {exc}")]) from None
    return parse_config(text, path=str(path), known_actions=known_actions)


def _problem(source: YamlSource, loc: tuple[int | str, ...], kind: str, msg: str) -> ConfigProblem:
    where = ".".join(str(part) for part in _yaml_path(source, loc))
    msg = msg.removeprefix("Value error, ")  # our own validators' words need no prefix
    words = _ERROR_WORDS.get(kind, msg[:1].lower() + msg[1:])
    return ConfigProblem(source.line_of(loc), f"{where}: {words}" if where else words)


def _yaml_path(source: YamlSource, loc: tuple[int | str, ...]) -> list[int | str]:
    """The location without pydantic's union tags: parts the document does not have, except a
    missing last key (which is what the error is about)."""
    kept: list[int | str] = []
    for index, part in enumerate(loc):
        if part == "[key]":  # pydantic's marker for an error in a mapping key itself
            continue
        if index == len(loc) - 1 or _has(source, [*kept, part]):
            kept.append(part)
    return kept


def _has(source: YamlSource, loc: list[int | str]) -> bool:
    data: Any = source.data
    for part in loc:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_list or (isinstance(data, dict) and part in data)):
            return False
        data = data[part]
    return True


def _check_references(
    config: AgentConfig, source: YamlSource, known_actions: Collection[str]
) -> list[ConfigProblem]:
    """What the models cannot see alone: unknown actions, unreadable files, missing pairs."""
    problems: list[ConfigProblem] = []

    def refuse(loc: list[int | str], reason: str) -> None:
        problems.append(ConfigProblem(source.line_of(loc), reason))

    for index, code in enumerate(config.actions or []):
        if code not in known_actions:
            refuse(
                ["actions", index],
                f"actions: unknown action {code!r} (known: {', '.join(known_actions)})",
            )
    ssh_nodes = [code for code, node in config.nodes.items() if isinstance(node, SshNode)]
    if ssh_nodes and config.known_hosts is None:
        refuse(
            ["nodes", ssh_nodes[0]],
            f"nodes.{ssh_nodes[0]}: an ssh node needs known_hosts "
            "(the file of trusted SSH host keys)",
        )
    if config.known_hosts is not None:
        _check_readable(config.known_hosts, ["known_hosts"], refuse)
    # hub_public_key is checked when the agent starts (agent/hub_key.py), not here: a missing
    # one is where `guardia-agent enroll` will write it, and the error says how to enroll
    for code, node in config.nodes.items():
        if isinstance(node, SshNode) and node.key_file is not None:
            _check_readable(node.key_file, ["nodes", code, "key_file"], refuse)
    for index, watch in enumerate(config.watch):
        where = f"watch.{index}"
        if watch.node not in config.nodes:
            refuse(["watch", index, "node"], f"{where}.node: {watch.node} is not in nodes")
        service = config.services.get(watch.service)
        if service is None:
            refuse(
                ["watch", index, "service"],
                f"{where}.service: {watch.service} is not in services",
            )
        elif watch.path is None and service.log_path is None:
            refuse(
                ["watch", index],
                f"{where}: needs path (services.{watch.service} has no log_path)",
            )
    for name, service in config.services.items():
        if service.client is not None and service.kind is None:
            refuse(
                ["services", name, "client"],
                f"services.{name}.client: needs kind (postgresql, mysql, mariadb or oracle)",
            )
    return sorted(problems, key=lambda p: p.line)


def _check_readable(path: Path, loc: list[int | str], refuse: Any) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError as exc:
        refuse(loc, f"{'.'.join(map(str, loc))}: cannot read {path}: {exc.strerror}")
        return False
