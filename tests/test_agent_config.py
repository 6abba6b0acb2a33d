"""agent.yaml: each bad config is refused with its line and reason; hub URLs; CLI flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent.catalog import CATALOG
from agent.cli import build_parser, settings_from
from agent.config import LocalNode, SshNode, parse_config
from agent.exceptions import ConfigError, EnrollmentError, UsageError
from agent.hub_address import parse_hub_url
from protocol.signing import generate_private_key, public_key_fingerprint, public_key_to_pem

KNOWN = list(CATALOG)


def parse(text: str) -> object:
    return parse_config(text, path="agent.yaml", known_actions=KNOWN)


GOOD = """\
known_hosts: {tmp}/known_hosts
hub_public_key: {tmp}/hub.pub
actions: [RESTART_SERVICE, HEALTH_CHECK, SERVICE_STATUS, CHECK_DISK_SPACE, TAIL_LOG]
nodes:
  MOF-WAS-01: {{transport: ssh, host: 10.10.1.11, port: 22, user: deploy, key_file: {tmp}/id}}
  MOF-WEB-01: {{transport: local}}
services:
  tomcat:
    restart: systemctl restart tomcat
    status: systemctl is-active tomcat
    health_url: http://127.0.0.1:8080/health
    deploy_path: /opt/tomcat/webapps
    log_path: /opt/tomcat/logs/catalina.out
  nginx: {{}}
  pg:
    kind: postgresql
    client: sudo -u postgres psql -X
watch:
  - node: MOF-WAS-01
    service: tomcat
    patterns: ["OutOfMemoryError", "SEVERE: .* failed"]
    min_interval: 300
    severity: CRITICAL
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "id").write_text("")
    (tmp_path / "hub.pub").write_bytes(public_key_to_pem(generate_private_key().public_key()))
    return tmp_path


def test_the_operations_md_example_loads(files: Path) -> None:
    config = parse_config(GOOD.format(tmp=files), path="agent.yaml", known_actions=KNOWN)
    assert isinstance(config.nodes["MOF-WAS-01"], SshNode)
    assert config.nodes["MOF-WAS-01"].port == 22
    assert isinstance(config.nodes["MOF-WEB-01"], LocalNode)
    [watch] = config.watch
    assert watch.log_path(config) == "/opt/tomcat/logs/catalina.out"
    assert (watch.min_interval, watch.severity, watch.context_lines) == (300, "CRITICAL", 5)
    nginx = config.services["nginx"]
    assert nginx.restart_command("nginx") == "systemctl restart nginx"
    assert nginx.status_command("nginx") == "systemctl is-active nginx"
    assert config.allowed_actions(KNOWN) == [
        "RESTART_SERVICE", "HEALTH_CHECK", "SERVICE_STATUS", "CHECK_DISK_SPACE", "TAIL_LOG",
    ]  # fmt: skip


def test_an_empty_service_entry_means_the_defaults() -> None:
    config = parse_config("services:\n  tomcat:\n", path="a", known_actions=KNOWN)
    assert config.services["tomcat"].restart_command("tomcat") == "systemctl restart tomcat"


def test_an_empty_file_is_an_agent_with_no_nodes() -> None:
    config = parse_config("", path="a", known_actions=KNOWN)
    assert config.nodes == {} and config.allowed_actions(KNOWN) == KNOWN


WATCH = """nodes:
  A: {transport: local}
services:
  app: {log_path: /var/log/app.log}
watch:
  - node: A
    service: app
"""

BAD = [
    ("nodes:\n  A: {transport: local\n", 3, "not valid YAML"),
    ("- just\n- a list\n", 1, "the config must be a mapping"),
    ("nodes:\n  A: {transport: local}\n  A: {transport: local}\n", 3, "duplicate key 'A'"),
    ("max_concurency: 3\n", 1, "max_concurency: unknown key (a typo?)"),
    ("nodes:\n  A: {transport: telnet}\n", 2, "nodes.A: transport must be 'ssh' or 'local'"),
    ("nodes:\n  A: {host: x}\n", 2, "nodes.A: transport is required"),
    (
        "known_hosts: /dev/null\nnodes:\n  A:\n    transport: ssh\n    host: h\n"
        "    port: 70000\n    user: u\n",
        6,
        "nodes.A.port: input should be less than or equal",
    ),
    (
        "known_hosts: /dev/null\nnodes:\n  A: {transport: ssh, host: h}\n",
        3,
        "nodes.A.user: required",
    ),
    (
        "known_hosts: /dev/null\nnodes:\n  A: {transport: ssh, host: 'h; rm -rf /', user: u}\n",
        3,
        "nodes.A.host: string should match pattern",
    ),
    (
        "nodes:\n  A: {transport: ssh, host: h, user: u}\n",
        2,
        "nodes.A: an ssh node needs known_hosts",
    ),
    ("known_hosts: /nonexistent/known_hosts\n", 1, "known_hosts: cannot read"),
    ("actions: [RESTART_SERVICE, REBOOT]\n", 1, "actions: unknown action 'REBOOT'"),
    ("actions:\n  - RESTART_SERVICE\n  - reboot\n", 3, "actions.1: string should match"),
    (
        "services:\n  tomcat:\n    restart: x\n    helth_url: http://a\n",
        4,
        "services.tomcat.helth_url: unknown key",
    ),
    (
        "services:\n  tomcat:\n    deploy_path: opt/tomcat\n",
        3,
        "services.tomcat.deploy_path: string should match pattern",
    ),
    ("services:\n  tomcat:\n    health_url: ftp://x/\n", 3, "services.tomcat.health_url"),
    ("services:\n  db:\n    kind: sqlserver\n", 3, "services.db.kind: input should be"),
    ("services:\n  db:\n    client: psql\n", 3, "services.db.client: needs kind"),
    ("services:\n  'bad name':\n    restart: x\n", 2, "services.bad name: string should match"),
    ("step_timeout: 0\n", 1, "step_timeout: input should be greater than 0"),
    ("reconnect:\n  initial_delay: 1\n  max_delay: -1\n", 3, "reconnect.max_delay"),
    ("nodes:\n  A: {transport: local}\n  B: [1, 2]\n", 3, "nodes.B"),
    (
        WATCH + "    patterns: ['ERROR', 'Out(OfMemory']\n",
        8,
        "watch.0.patterns.1: not a valid regular expression: missing ), unterminated subpattern",
    ),
    (WATCH + "    patterns: []\n", 8, "watch.0.patterns: list should have at least 1 item"),
    (WATCH + "    patterns: [x]\n    min_interval: 0\n", 9, "watch.0.min_interval: input should"),
    (WATCH + "    patterns: [x]\n    severity: URGENT\n", 9, "watch.0.severity: input should be"),
    (WATCH + "    patterns: [x]\n    path: logs/app.log\n", 9, "watch.0.path: string should match"),
    (WATCH + "    patterns: [x]\n    paterns: [y]\n", 9, "watch.0.paterns: unknown key"),
    (
        WATCH.replace("node: A", "node: B") + "    patterns: [x]\n",
        6,
        "watch.0.node: B is not in nodes",
    ),
    (
        WATCH.replace("service: app", "service: db") + "    patterns: [x]\n",
        7,
        "watch.0.service: db is not in services",
    ),
    (
        WATCH.replace("{log_path: /var/log/app.log}", "{}") + "    patterns: [x]\n",
        6,
        "watch.0: needs path (services.app has no log_path)",
    ),
]


@pytest.mark.parametrize(("text", "line", "reason"), BAD)
def test_a_bad_config_names_its_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    first = caught.value.problems[0]
    assert (first.line, reason in first.reason) == (line, True), str(caught.value)
    assert str(caught.value).startswith(f"agent.yaml:{line}: ")


def test_every_problem_is_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse("nodes:\n  A: {transport: local, x: 1}\nstep_timeout: -5\n")
    assert [p.line for p in caught.value.problems] == [2, 3]


@pytest.mark.parametrize(
    ("url", "ws_url", "http_base"),
    [
        ("http://hub:8000", "ws://hub:8000/ws/agent", "http://hub:8000"),
        ("https://hub.example", "wss://hub.example/ws/agent", "https://hub.example"),
        ("ws://127.0.0.1:8000/", "ws://127.0.0.1:8000/ws/agent", "http://127.0.0.1:8000"),
        ("wss://hub/ws/agent", "wss://hub/ws/agent", "https://hub"),
        ("https://proxy/guardia/ws/agent/", "wss://proxy/guardia/ws/agent",
         "https://proxy/guardia"),
    ],
)  # fmt: skip
def test_hub_urls(url: str, ws_url: str, http_base: str) -> None:
    address = parse_hub_url(url, insecure=True)
    assert (address.ws_url, address.http_base) == (ws_url, http_base)
    assert address.artifact_url("a1") == f"{http_base}/api/artifacts/a1"
    assert address.hub_key_url == f"{http_base}/api/agent/hub-key"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("https://hub.example", True), ("wss://10.0.0.5:8443", True),
     ("http://127.0.0.1:8000", True), ("ws://127.8.9.10", True), ("http://[::1]:8000", True),
     ("http://localhost:8000", True), ("ws://LOCALHOST", True),
     ("http://hub.example", False), ("ws://10.0.0.5:8000", False),
     ("http://0.0.0.0:8000", False), ("http://localhost.evil.example", False),
     ("http://[::ffff:10.0.0.1]", False), ("ws://128.0.0.1", False)],
)  # fmt: skip
def test_cleartext_only_on_loopback_or_with_insecure(url: str, allowed: bool) -> None:
    if allowed:
        parse_hub_url(url)
    else:
        with pytest.raises(UsageError, match=r"cleartext; use wss:// or https://.*--insecure"):
            parse_hub_url(url)
    assert parse_hub_url(url, insecure=True).ws_url.endswith("/ws/agent")


@pytest.mark.parametrize(
    ("url", "words"),
    [("ftp://hub", "scheme"), ("http://", "no host"), ("http://u:p@hub", "credentials"),
     ("http://hub/?token=x", "query"), ("http://hub:99999", "port")],
)  # fmt: skip
def test_bad_hub_urls(url: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_hub_url(url)


def args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_flags_fall_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "agent.yaml"
    key = generate_private_key().public_key()
    (tmp_path / "agent-a-1.hub.pub").write_bytes(public_key_to_pem(key))
    (tmp_path / "agent-b-2.hub.pub").write_bytes(public_key_to_pem(key))
    config.write_text(f"outbox: {tmp_path}/outbox.sqlite\nnodes:\n  WEB-01: {{transport: local}}\n")
    monkeypatch.setenv("GUARDIA_HUB_URL", "http://hub:8000")
    monkeypatch.setenv("GUARDIA_AGENT_ID", "a-1")
    monkeypatch.setenv("GUARDIA_AGENT_TOKEN", "tok")
    monkeypatch.setenv("GUARDIA_AGENT_CONFIG", str(config))
    monkeypatch.setenv("GUARDIA_AGENT_INSECURE", "1")
    settings = settings_from(args())
    assert settings.agent_id == "a-1" and settings.token == "tok"
    assert settings.hub.ws_url == "ws://hub:8000/ws/agent"
    assert list(settings.config.nodes) == ["WEB-01"]
    assert public_key_fingerprint(settings.hub_key) == public_key_fingerprint(key)
    assert "tok" not in repr(settings)
    assert settings_from(args("--id", "b-2")).agent_id == "b-2"
    monkeypatch.setenv("GUARDIA_AGENT_INSECURE", "")
    with pytest.raises(UsageError, match="cleartext"):
        settings_from(args())
    assert settings_from(args("--insecure")).agent_id == "a-1"


@pytest.mark.parametrize(
    ("key_line", "words"),
    [("", "no hub public key at {tmp}/agent-a-1.hub.pub"),
     ("hub_public_key: {tmp}/pinned/hub.pub\n", "no hub public key at {tmp}/pinned/hub.pub"),
     ("hub_public_key: /dev/null\n", "/dev/null is not an Ed25519 public key")],
)  # fmt: skip
def test_no_start_without_a_pinned_hub_key(tmp_path: Path, key_line: str, words: str) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(key_line.format(tmp=tmp_path) + f"outbox: {tmp_path}/outbox.sqlite\n")
    argv = ("--hub", "https://hub", "--id", "a-1", "--token", "t", "--config", str(config))
    with pytest.raises(EnrollmentError) as caught:
        settings_from(args(*argv))
    assert words.format(tmp=tmp_path) in caught.value.message
    if "no hub public key" in words:
        assert "guardia-agent enroll --hub URL --id a-1" in caught.value.message


@pytest.mark.parametrize(
    ("argv", "words"),
    [((), "missing --hub"), (("--hub", "http://h", "--id", "x"), "missing --token"),
     (("--hub", "http://h", "--id", "../etc", "--token", "t"), "agent id"),
     (("--hub", "http://h", "--id", "x", "--token", "a b"), "spaces")],
)  # fmt: skip
def test_bad_flags(monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], words: str) -> None:
    for name in ("GUARDIA_HUB_URL", "GUARDIA_AGENT_ID", "GUARDIA_AGENT_TOKEN",
                 "GUARDIA_AGENT_CONFIG", "GUARDIA_AGENT_INSECURE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError, match=words):
        settings_from(args(*argv))
