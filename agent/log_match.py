"""Which log lines become events, as pure code: lines and a clock in, finished drafts out.

Sans-I/O in the manner of websockets' protocol core: `line_received` and `tick` take lines
and times, and hand back the drafts that are complete; the watcher (agent/log_watch.py) only
moves lines from the file and drafts to the outbox.

    no draft  --line matches, min_interval since the last event--> collecting (that line)
    no draft  --line matches, within min_interval-->               no draft, folded += 1
    collecting --any line--> collecting (+ the line), finished at 1 + context_lines lines
    collecting --tick CONTEXT_WAIT after the match--> finished with what it has

A burst (a stack trace per request, a reconnect storm) becomes one event per min_interval;
the next event says how many matches were folded since the previous one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from protocol.incident_frames import MAX_EVENT_LINE

#: seconds a matched line waits for the lines that follow it (a stack trace comes at once)
CONTEXT_WAIT = 1.0


@dataclass
class Draft:
    """An event in the making: the matching line, the ones after it, and when."""

    pattern: str
    matched_at: float
    lines: list[str]
    folded: int


@dataclass
class LogMatcher:
    patterns: list[str]
    min_interval: float
    context_lines: int = 5
    context_wait: float = CONTEXT_WAIT
    _compiled: list[re.Pattern[str]] = field(init=False, repr=False)
    _draft: Draft | None = field(default=None, init=False)
    _last_event_at: float | None = field(default=None, init=False)
    _folded: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._compiled = [re.compile(p) for p in self.patterns]

    @property
    def folded(self) -> int:
        """Matches since the last event that got no event of their own (yet)."""
        return self._folded

    def match(self, line: str) -> str | None:
        """The first pattern `line` matches, or None."""
        for pattern in self._compiled:
            if pattern.search(line):
                return pattern.pattern
        return None

    def line_received(self, line: str, now: float) -> list[Draft]:
        """Feed one line (without its newline); the drafts this completes."""
        line = line[:MAX_EVENT_LINE]
        done = self.tick(now)
        pattern = self.match(line)
        draft = self._draft
        if draft is not None:
            draft.lines.append(line)  # a match among them is part of this event
            if len(draft.lines) > self.context_lines:
                done.append(self._finish())
            return done
        if pattern is None:
            return done
        if self._last_event_at is not None and now - self._last_event_at < self.min_interval:
            self._folded += 1
            return done
        self._draft = Draft(pattern, now, [line], self._folded)
        self._folded = 0
        self._last_event_at = now
        if self.context_lines == 0:
            done.append(self._finish())
        return done

    def tick(self, now: float) -> list[Draft]:
        """Time passed: a draft that waited long enough for its context is complete."""
        draft = self._draft
        if draft is not None and now - draft.matched_at >= self.context_wait:
            return [self._finish()]
        return []

    def next_deadline(self) -> float | None:
        """When `tick` would next complete a draft; None when nothing waits."""
        return None if self._draft is None else self._draft.matched_at + self.context_wait

    def _finish(self) -> Draft:
        draft = self._draft
        assert draft is not None
        self._draft = None
        return draft
