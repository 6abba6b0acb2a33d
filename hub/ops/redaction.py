"""What must never reach a log line: our tokens, bearer credentials, the secret settings.

Patterns cover the shapes of every token the hub issues (cmdb/tokens.py: `gu_` users, `ga_`
agents, `gi_` integrations; task-scoped artifact tokens `T...<task>.<artifact>.<hmac>`),
`Authorization: Bearer ...` and `Basic ...` however they are quoted, Slack's `xox?-` tokens,
and `token=`/`secret=`/`password=` pairs; `register()` adds exact values (the secret settings,
the metrics token) that have no shape of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

#: (pattern, group kept): what matches is replaced, but for the kept group (a key, a scheme)
_PATTERNS = [
    # gu_/ga_/gi_ + token_urlsafe(32): 43 characters; shorter tails are not ours
    re.compile(r"()\bg[uai]_[A-Za-z0-9_-]{20,}"),
    # artifact fetch tokens: the HMAC after the task and artifact ids
    re.compile(r"(\.)[0-9a-f]{64}\b"),
    re.compile(r"()\bxox[abposr]-[A-Za-z0-9-]{8,}"),
    re.compile(r"(?i)(\b(?:bearer|basic) +)[^\s'\",;]+"),
    re.compile(r"(?i)(authorization[\"']?[=:,] *[\"']?)[^'\"\n]+"),
    re.compile(r"(?i)((?:token|secret|password|api_key|apikey)[\"']?[=:] *[\"']?)[^\s'\",&}]{6,}"),
]

_values: set[str] = set()


def register(secrets: Iterable[str | None]) -> None:
    """Exact values to redact wherever they appear (at least 6 characters: no false hits)."""
    _values.update(s for s in secrets if s and len(s) >= 6)


def redact(text: str) -> str:
    for value in _values:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(_keep_prefix, text)
    return text


def _keep_prefix(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED
