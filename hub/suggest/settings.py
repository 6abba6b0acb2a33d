"""The bot's settings, read from the environment (operations.md, "The proactive bot").

Read them at start-up so a bad value stops the hub there. GUARDIA_SUGGEST_THREADS is also
read by the embedding itself when the model first loads (OpenMP fixes it then).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

_SWITCH = {"on": True, "1": True, "true": True, "off": False, "0": False, "false": False}


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class SuggestSettings:
    #: GUARDIA_SUGGEST=off turns the proactive bot off for a site
    enabled: bool = True
    #: seconds between two suggestions of one kind in one room (GUARDIA_SUGGEST_COOLDOWN)
    cooldown: float = 600.0
    #: a `chroma run` server shared by several hubs; None: embedded under the data dir
    chroma_url: str | None = None
    #: threads the embedding uses (GUARDIA_SUGGEST_THREADS)
    threads: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SuggestSettings:
        """Read the variables; a bad value raises ValueError naming the variable."""
        env = os.environ if env is None else env
        raw = env.get("GUARDIA_SUGGEST", "on").strip().lower() or "on"
        if raw not in _SWITCH:
            raise ValueError(f"GUARDIA_SUGGEST must be on or off, not {raw!r}")
        url = env.get("GUARDIA_CHROMA_URL", "").strip() or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"GUARDIA_CHROMA_URL must be http(s)://HOST[:PORT], not {url!r}")
        threads = env.get("GUARDIA_SUGGEST_THREADS", "").strip()
        if threads and not (threads.isdigit() and int(threads) > 0):
            raise ValueError(f"GUARDIA_SUGGEST_THREADS must be a positive number, not {threads!r}")
        return cls(
            enabled=_SWITCH[raw],
            cooldown=_positive(env, "GUARDIA_SUGGEST_COOLDOWN", 600.0),
            chroma_url=url,
            threads=int(threads) if threads else 1,
        )
