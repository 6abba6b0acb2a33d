"""The proactive bot: hears ordinary chat and offers the read-only diagnostic for a symptom.

Never on the chat path: the socket hands a person's line over with the future of its write
(`heard`), and the analysis runs once it is stored and broadcast. In order, each step able
to end it (the step's name is what `outcomes` counts):
1. the site has it on (GUARDIA_SUGGEST); fewer than MAX_IN_FLIGHT analyses are under way
   and the room's line budget (line_budget.py: 5 lines/s, bursts of 20) has room: else
   the line is skipped (`skipped_busy`), never queued;
2. the room has a scope (`unscoped`: a room without one runs nothing);
3. `heard_kinds` (names out, keyword rules, filters; no model) leaves a kind this hub does
   not know to be cooling down in the room (`screened`, `cooldown`);
4. the room is not muted (`muted`, read from the database: mutes hold across hubs);
5. the detector (hub.suggest: one e5 embedding and one chromadb query, in a thread; the
   store opens the first time one is needed, `unavailable` while it cannot) decides with
   the room's scope (the verdict's reason);
6. the plan is runnable from this room: its system inside the room's scope, or, when the
   line named none, a choice among the room's systems; with targets (`unrunnable`);
7. its action is not running and did not run in the room in the last RECENT_RUN seconds
   (`recent`), and the room's cooldown slot for the kind is claimed in the database
   (`cooldown`), so every hub respects it;
8. a stored CHAT from GUARDiA-Bot in the writer's language with its buttons (run it, or one
   per system; Dismiss; Mute), and its record (suggestion_card.py): `posted`.
The buttons' presses are suggestion_buttons.py's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmdb.accounts import Identity
from cmdb.index import CmdbIndex
from cmdb.tables import Room, utcnow
from hub.bot.line_budget import LineBudget
from hub.bot.suggestion_card import SuggestionCard
from hub.bot.suggestion_store import SuggestionStore
from hub.commands.buttons import ButtonStore
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.commands.room_scope import room_covers, systems_in_room
from hub.parser.grounding import system_label
from hub.parser.plan import UNKNOWN
from hub.rooms.directory import RoomDirectory
from hub.rooms.voice import BotVoice
from hub.suggest.exceptions import StoreUnavailable, SuggestError
from hub.suggest.precheck import heard_kinds
from protocol import Message

if TYPE_CHECKING:
    from hub.suggest.detector import Suggestion, SymptomDetector

log = logging.getLogger("guardia.hub.suggest")

#: analyses under way at once (each holds a thread while it embeds); more lines are skipped
MAX_IN_FLIGHT = 4
#: seconds before the exemplar store is tried again after it could not be opened
STORE_RETRY = 30.0
#: a room's system choices offered as buttons, at most
MAX_CHOICES = 8
#: seconds between two looks for suggestions that expired unanswered (at most; a short
#: cooldown is looked at more often)
SWEEP_EVERY = 10.0
#: analyses whose time (embedding + query) is kept for the health endpoint's percentiles
TIMINGS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class ProactiveSettings:
    """The hub's settings the bot uses (hub.settings: GUARDIA_SUGGEST*, GUARDIA_CHROMA_URL)."""

    enabled: bool = True
    cooldown: float = 600.0
    mute: float = 3600.0
    data_dir: Path | None = None
    chroma_url: str | None = None
    threads: int = 1


class ProactiveBot:
    def __init__(
        self,
        *,
        store: SuggestionStore,
        rooms: RoomDirectory,
        cmdb: CmdbSnapshot,
        buttons: ButtonStore,
        voice: BotVoice,
        settings: ProactiveSettings,
    ) -> None:
        self.store = store
        self._rooms = rooms
        self._cmdb = cmdb
        self.settings = settings
        self._card = SuggestionCard(store, buttons, voice, settings.cooldown, settings.mute)
        self._detector: SymptomDetector | None = None
        self._opening = asyncio.Lock()
        self._retry_at = 0.0
        self._in_flight = 0
        self._budget = LineBudget()
        #: (room, kind) -> monotonic time its slot is known to be taken until, on any hub
        self._cooling: dict[tuple[str, str], float] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.analyzed = 0
        self.skipped = 0
        #: what the lines came to: 'posted', a quiet rule, a filter's or the verdict's reason
        self.outcomes: Counter[str] = Counter()
        self._timings: deque[float] = deque(maxlen=TIMINGS_KEPT)
        self._next_sweep = 0.0
        self._warned_at = -STORE_RETRY

    # -- the exemplar store, opened when first needed ---------------------------------------

    async def detector(self) -> SymptomDetector | None:
        """The detector, opening the store in a thread the first time; None if unavailable."""
        if self._detector is not None:
            return self._detector
        async with self._opening:
            if self._detector is None and time.monotonic() >= self._retry_at:
                try:
                    self._detector = await asyncio.to_thread(self._open)
                except SuggestError as exc:
                    self._retry_at = time.monotonic() + STORE_RETRY
                    log.warning("suggestions paused: %s (trying again in %.0f s)", exc, STORE_RETRY)
        return self._detector

    def _open(self) -> SymptomDetector:
        from hub.suggest.detector import SymptomDetector
        from hub.suggest.store import open_store

        s = self.settings
        data_dir = None if s.chroma_url else s.data_dir
        return SymptomDetector(open_store(data_dir, s.chroma_url, threads=s.threads))

    def health(self) -> dict[str, Any]:
        """What the bot is doing, for /api/health (no room, text or name in it)."""
        if not self.settings.enabled:
            return {"state": "off"}
        if self._detector is not None:
            state = "ready"
        elif self._retry_at:
            state = "unavailable"
        else:
            state = "idle"  # the store opens with the first line worth analysing
        ordered = sorted(self._timings)
        report: dict[str, Any] = {
            "state": state,
            "analyzed": self.analyzed,
            "skipped_busy": self.skipped,
            "outcomes": dict(self.outcomes),
        }
        if ordered:
            last = len(ordered) - 1
            report["model_ms_p50"] = round(ordered[last // 2] * 1000, 1)
            report["model_ms_p99"] = round(ordered[min(last, int(len(ordered) * 0.99))] * 1000, 1)
        return report

    # -- hearing a line --------------------------------------------------------------------

    def heard(self, stored: asyncio.Future[Message], identity: Identity, room_id: str) -> None:
        """A person's line, not addressed to the bot, on its way to the room's log.

        The budgets are asked now, so that a line the bot will not read costs the chat path
        nothing more (no callback on its write)."""
        if self.settings.enabled and not identity.is_bot and self._admit(room_id):
            stored.add_done_callback(self._on_stored)

    def _admit(self, room_id: str) -> bool:
        if self._in_flight >= MAX_IN_FLIGHT or not self._budget.take(room_id):
            self.skipped += 1
            return False
        self._in_flight += 1  # from here the line holds its place until it is decided
        return True

    def _on_stored(self, stored: asyncio.Future[Message]) -> None:
        if stored.cancelled() or stored.exception() is not None:
            self._in_flight -= 1
            return
        self._spawn(self._analyze(stored.result()))

    def read(self, message: Message) -> None:
        """A person's stored line (bridges hand theirs over this way): analysed in the
        background if the budgets allow, else skipped."""
        if self.settings.enabled and self._admit(message.room_id or ""):
            self._spawn(self._analyze(message))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()

    async def sweep(self) -> None:
        """The Sweeper's check: expired suggestions nobody answered become `ignored`."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + min(SWEEP_EVERY, self.settings.cooldown / 4)
        for key in [k for k, until in self._cooling.items() if until <= now]:
            del self._cooling[key]
        await self.store.sweep_ignored()

    async def _analyze(self, message: Message) -> None:
        try:
            self.outcomes[await self._consider(message)] += 1
        except Exception:
            self.outcomes["error"] += 1
            log.exception("analysing a line of room %s failed", message.room_id)
        finally:
            self._in_flight -= 1

    async def _consider(self, message: Message) -> str:
        """Suggest for the line if everything allows it; returns what it came to."""
        assert message.room_id is not None
        room = await self._rooms.get(message.room_id)
        if room is None or room.scope is None:
            return "unscoped"
        index = await self._cmdb.index()
        heard = heard_kinds(message.content, index)
        if not heard:
            return "screened"
        now = time.monotonic()
        if all(self._cooling.get((room.id, kind), 0) > now for kind in heard):
            return "cooldown"
        if await self.store.muted_until(room.id) is not None:
            return "muted"
        detector = await self.detector()
        if detector is None:
            return "unavailable"
        try:
            verdict = await asyncio.to_thread(detector.assess, message.content, room.scope, index)
        except StoreUnavailable as exc:  # a shared server gone: chat goes on, lines wait
            now = time.monotonic()
            if now >= self._warned_at + STORE_RETRY:
                self._warned_at = now
                log.warning("suggestions paused: %s", exc)
            return "unavailable"
        self.analyzed += 1
        self._timings.append(verdict.embed_seconds + verdict.query_seconds)
        found = verdict.suggestion
        if found is None:
            return verdict.reason
        choices = self._runnable(found, room, index)
        if choices is None:
            return "unrunnable"
        quiet = await self._quiet(room, found)
        if quiet is not None:
            return quiet
        await self._card.post(message, room, found, choices, index)
        return "posted"

    def _runnable(
        self, found: Suggestion, room: Room, index: CmdbIndex
    ) -> list[tuple[str, str]] | None:
        """(label, system code) buttons when the line named no system, [] for a run button,
        None when nothing here could run it (outside the room, or no targets)."""
        plan = found.plan
        if plan.system_name == UNKNOWN:
            here = {s.code: s for s in systems_in_room(index, room)}
            offered = [here[c] for c in found.choices if c in here][:MAX_CHOICES]
            return [(system_label(s), s.code) for s in offered] or None
        if plan.needs_clarification or not plan.target_nodes:
            return None  # nothing to press: the bot stays quiet rather than ask
        if not room_covers(room, plan.institution, plan.system_name):
            return None
        return []

    async def _quiet(self, room: Room, found: Suggestion) -> str | None:
        """Why the bot must keep quiet about `found` in the room now, or None (slot taken)."""
        if await self.store.recently_ran(room.id, found.action):
            return "recent"
        claimed = await self.store.claim_cooldown(room.id, found.kind, self.settings.cooldown)
        if not claimed:
            for kind, until in (await self.store.cooling(room.id)).items():
                left = (until - utcnow()).total_seconds()
                self._cooling[(room.id, kind)] = time.monotonic() + left
            return "cooldown"
        self._cooling[(room.id, found.kind)] = time.monotonic() + self.settings.cooldown
        return None
