"""Settings: typed, documented from their fields, and a bad value refused naming its variable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from harness import BIN, REPO

from hub.settings import Settings, SettingsError, environment_table


def test_operations_md_lists_every_setting_as_the_code_describes_it() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    missing = [row for row in environment_table().splitlines() if row not in doc]
    assert not missing, "docs/operations.md is out of date; paste environment_table():\n" + (
        "\n".join(missing)
    )


def test_values_come_from_guardia_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARDIA_RATE_BURST", "7")
    monkeypatch.setenv("GUARDIA_PERSIST_MESSAGES", "0")
    monkeypatch.setenv("GUARDIA_REDIS_URL", "")
    monkeypatch.setenv("GUARDIA_DATA_DIR", "/tmp/somewhere")
    settings = Settings.from_env()
    assert settings.rate_burst == 7.0
    assert settings.persist_messages is False
    assert settings.redis_url is None
    assert settings.data_dir == Path("/tmp/somewhere")


def test_the_proactive_bot_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings.from_env()
    assert (defaults.suggest, defaults.suggest_cooldown, defaults.suggest_mute) == (
        True,
        600.0,
        3600.0,
    )
    assert (defaults.suggest_threads, defaults.chroma_url) == (1, None)
    monkeypatch.setenv("GUARDIA_SUGGEST", "off")
    monkeypatch.setenv("GUARDIA_SUGGEST_COOLDOWN", "30")
    monkeypatch.setenv("GUARDIA_SUGGEST_MUTE", "5")
    monkeypatch.setenv("GUARDIA_SUGGEST_THREADS", "2")
    monkeypatch.setenv("GUARDIA_CHROMA_URL", "http://127.0.0.1:8123")
    got = Settings.from_env()
    assert (got.suggest, got.suggest_cooldown, got.suggest_mute) == (False, 30.0, 5.0)
    assert (got.suggest_threads, got.chroma_url) == (2, "http://127.0.0.1:8123")
    monkeypatch.setenv("GUARDIA_CHROMA_URL", "")
    assert Settings.from_env().chroma_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GUARDIA_RATE_BURST", "lots"),
        ("GUARDIA_APPROVAL_TTL", "-5"),
        ("GUARDIA_PERSIST_MESSAGES", "maybe"),
        ("GUARDIA_SEND_QUEUE_BYTES", "12.5"),
        ("GUARDIA_SUGGEST", "maybe"),
        ("GUARDIA_SUGGEST_COOLDOWN", "-1"),
        ("GUARDIA_SUGGEST_COOLDOWN", "soon"),
        ("GUARDIA_SUGGEST_THREADS", "0"),
        ("GUARDIA_CHROMA_URL", "127.0.0.1:8000"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env()


def test_the_hub_refuses_to_start_with_a_bad_value(tmp_path: Path) -> None:
    env = {**os.environ, "GUARDIA_TASK_DEADLINE": "soon", "GUARDIA_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [str(BIN / "guardia-hub"), "--port", "1"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "GUARDIA_TASK_DEADLINE" in proc.stderr
