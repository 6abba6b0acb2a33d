"""What the room taught the bot: suggestion outcomes per kind, and thumbs-down commands.

Read by `guardia suggest stats` and `guardia parse --export-feedback`; the hub writes the
rows (hub/bot/suggestion_store.py, hub/bot/feedback.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.tables import CardFeedback, SuggestionRecord

#: the plan fields an eval case names (the shape of shared/eval/commands.jsonl)
EVAL_FIELDS = (
    "intent_type",
    "institution",
    "system_name",
    "infrastructure_layer",
    "target_nodes",
    "requires_approval",
)


@dataclass
class KindStats:
    kind: str
    made: int = 0
    pressed: int = 0
    dismissed: int = 0
    muted: int = 0
    ignored: int = 0
    #: still pressable (neither answered nor expired)
    open: int = 0

    @property
    def precision(self) -> float | None:
        """Pressed among those someone answered run or dismiss to: operators' precision."""
        judged = self.pressed + self.dismissed
        return self.pressed / judged if judged else None


async def suggestion_stats(session: AsyncSession, since: datetime | None = None) -> list[KindStats]:
    """Per kind (sorted), how many suggestions were made and what became of them."""
    query = select(SuggestionRecord.kind, SuggestionRecord.outcome, sa.func.count()).group_by(
        col(SuggestionRecord.kind), col(SuggestionRecord.outcome)
    )
    if since is not None:
        query = query.where(col(SuggestionRecord.created_at) >= since)
    stats: dict[str, KindStats] = {}
    for kind, outcome, count in await session.exec(query):
        row = stats.setdefault(kind, KindStats(kind))
        row.made += count
        setattr(row, outcome or "open", getattr(row, outcome or "open") + count)
    return [stats[kind] for kind in sorted(stats)]


@dataclass
class ThumbsDownCase:
    """A command and the plan the hub made for it, which someone voted down."""

    text: str
    plan: dict[str, Any]
    voters: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)
    last: datetime | None = None

    def eval_line(self) -> dict[str, Any]:
        """One line of an eval file: `text`, `expected` (the plan as made: correct it to
        what it should have been before the case is used) and where it came from."""
        return {
            "text": self.text,
            "expected": {key: self.plan.get(key) for key in EVAL_FIELDS},
            "thumbs_down": {
                "voters": self.voters,
                "task_ids": self.task_ids,
                "last": self.last.isoformat() if self.last else None,
                "plan": self.plan,
            },
        }


async def thumbs_down(session: AsyncSession) -> tuple[list[ThumbsDownCase], int]:
    """Thumbs-down votes on plans of typed commands, one case per (text, plan), oldest
    first; and how many votes had no command to go with them (a suggestion's, a ping's)."""
    rows: Sequence[CardFeedback] = list(
        await session.exec(
            select(CardFeedback)
            .where(col(CardFeedback.helpful).is_(False))
            .order_by(col(CardFeedback.updated_at))
        )
    )
    cases: dict[bytes, ThumbsDownCase] = {}
    without = 0
    for vote in rows:
        if not vote.text or not vote.plan:
            without += 1
            continue
        key = orjson.dumps([vote.text, vote.plan], option=orjson.OPT_SORT_KEYS)
        case = cases.setdefault(key, ThumbsDownCase(vote.text, vote.plan))
        if vote.user_name not in case.voters:
            case.voters.append(vote.user_name)
        if vote.task_id and vote.task_id not in case.task_ids:
            case.task_ids.append(vote.task_id)
        case.last = vote.updated_at
    return list(cases.values()), without
