"""Logging for the daemon: to stderr, with secrets scrubbed from every record.

The token must never reach a log, even at DEBUG where websockets prints request headers.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"


class SecretFilter(logging.Filter):
    """Replaces each secret in a record's message, whoever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # chatty at INFO, and websockets prints headers (the token) at DEBUG
    for name in ("websockets", "asyncssh"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
