"""What every table module shares: the clock and the JSON column."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(**kw: Any) -> Any:
    return Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False, **kw))
