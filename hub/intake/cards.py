"""The ALERT card of an incident: built from its stored state, posted at a bounded rate.

One card per incident: every ALERT carries the incident's id as `alert_id`, and a later one
supersedes the earlier (clients update the card in place; replay ends on the latest).
A storm must not flood the room, so a card is posted at most once per `interval` seconds
per incident, on all hubs together (the right to post is a conditional update in the
database); repeats in between fold into the next post, which shows the latest state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from cmdb.tables import Incident, utcnow
from hub.commands.buttons import ButtonStore
from hub.i18n import pick
from hub.intake.card_records import CardRecords
from hub.intake.cause import CauseWriter
from hub.intake.memory import IncidentMemory, IncidentRecord, Similar, similar_words
from hub.intake.signals import KIND_ACTIONS, clip
from hub.intake.states import IncidentState
from hub.rooms.voice import BOT_NAME, BotVoice
from hub.tasks.store import iso
from protocol import Alert, Button, ItsmMetadata, ProbableCause, SimilarIncident

log = logging.getLogger("guardia.hub.incidents")

#: card buttons live as long as incidents may; a press still checks the incident's state
CARD_BUTTON_TTL = 30 * 24 * 3600.0
#: how often the sweep looks for cards that fell behind (a hub stopped before posting)
SWEEP_EVERY = 10.0
ACK = "ACK_ALERT"

_LABELS = {
    "FETCH_DB_LOCKS": ("대기 쿼리 조회", "Show lock waits"),
    "SERVICE_STATUS": ("서비스 상태 확인", "Service status"),
    "RESTART_SERVICE": ("서비스 재기동", "Restart the service"),
    "TAIL_LOG": ("로그 보기", "Tail the log"),
    ACK: ("확인(Ack)", "Acknowledge"),
}
_STATE_WORDS = {
    "firing": ("장애", "FIRING"),
    "acknowledged": ("확인됨", "ACKNOWLEDGED"),
    "resolved": ("해결", "RESOLVED"),
}


def record_of(row: Incident, **fix: Any) -> IncidentRecord:
    return IncidentRecord(
        incident_id=row.id,
        system=row.system,
        institution=row.institution,
        node=row.node,
        source=row.source,
        kind=row.kind,
        title=row.title,
        summary=row.summary,
        first_seen=iso(row.first_seen),
        resolved_at=iso(row.resolved_at) if row.resolved_at else None,
        **fix,
    )


def describe(row: Incident) -> str:
    """The card as one line of text, for clients that do not draw cards."""
    ko, en = _STATE_WORDS.get(row.state, (row.state, row.state.upper()))
    where = f"{row.node} " if row.node else ""
    text = pick(
        row.lang,
        f"[{ko}] {where}{row.title} · {row.occurrences}회 · 최근 {iso(row.last_seen)}",
        f"[{en}] {where}{row.title} · {row.occurrences}x · last {iso(row.last_seen)}",
    )
    if row.similar:
        text += "\n" + similar_words(row.similar, row.lang)
    if row.cause:
        text += pick(row.lang, "\n추정 원인(LLM): ", "\nProbable cause (LLM): ")
        text += str(row.cause.get(row.lang if row.lang in ("ko", "en") else "en", ""))
    return text


def alert_frame(row: Incident) -> Alert:
    """The ALERT frame for an incident's current state."""
    if row.state == IncidentState.RESOLVED:
        buttons: list[Button] = []
    else:
        buttons = [
            Button.model_validate(b)
            for b in row.actions
            if not (row.state == IncidentState.ACKNOWLEDGED and b["command_code"] == ACK)
        ]
    return Alert(
        room_id=row.room_id,
        sender=BOT_NAME,
        sender_type="BOT",
        alert_id=row.id,
        status=row.state,  # type: ignore[arg-type]
        severity=row.severity,  # type: ignore[arg-type]
        title=clip(row.title, 500),
        summary=clip(row.summary, 4000),
        asset_code=row.node,
        source=row.source,
        occurrences=row.occurrences,
        first_seen=iso(row.first_seen),
        last_seen=iso(row.last_seen),
        similar=SimilarIncident.model_validate(row.similar) if row.similar else None,
        probable_cause=ProbableCause.model_validate(row.cause) if row.cause else None,
        content=describe(row),
        is_widget=bool(buttons),
        interactive_actions=buttons,
        itsm_metadata=ItsmMetadata(asset_code=row.node, severity=row.severity),  # type: ignore[arg-type]
    )


#: what the buttons depend on for a node: (it has a service in the CMDB, its env)
NodeFacts = Callable[[str], Awaitable[tuple[bool, str] | None]]


class CardPoster:
    def __init__(
        self,
        records: CardRecords,
        voice: BotVoice,
        buttons: ButtonStore,
        memory: IncidentMemory,
        interval: float,
        node_facts: NodeFacts,
    ) -> None:
        self._records = records
        self._voice = voice
        self._buttons = buttons
        self.memory = memory
        self._interval = interval
        self._node_facts = node_facts
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._last_sweep = 0.0
        #: writes a probable cause with the LLM, after the first post (cause.py); optional
        self.causes: CauseWriter | None = None
        self._explaining: set[asyncio.Task[None]] = set()

    def touch(self, incident_id: str) -> None:
        """The incident changed: its card follows, now or at the end of its interval."""
        if incident_id in self._workers:
            self._again.add(incident_id)
            return
        task = asyncio.ensure_future(self._follow(incident_id))
        self._workers[incident_id] = task
        task.add_done_callback(lambda _: self._workers.pop(incident_id, None))

    async def stop(self) -> None:
        running = [*self._workers.values(), *self._explaining]
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.causes is not None:
            await self.causes.aclose()

    async def sweep(self) -> None:
        """Post cards that fell behind their incident (every SWEEP_EVERY seconds)."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = loop.time()
        for incident_id in await self._records.behind():
            self.touch(incident_id)

    async def _follow(self, incident_id: str) -> None:
        try:
            row = await self._records.get(incident_id)
            if row is None or row.room_id is None:
                return
            if row.posted_version == 0 and not row.actions:
                await self._first_card(row)  # before the first claim: nothing to undo
            while True:
                claimed = await self._records.claim_post(incident_id, self._interval)
                if claimed is not None:
                    self._again.discard(incident_id)
                    try:
                        await self._voice.post(alert_frame(claimed))
                    except Exception:
                        await self._records.unclaim_post(claimed)
                        raise
                    # nothing may be posted before the interval ends: repeats meanwhile fold
                    await asyncio.sleep(self._interval)
                    continue
                row = await self._records.get(incident_id)  # why not: up to date, or too soon
                if row is None:
                    return
                if row.posted_version >= row.version:
                    if incident_id in self._again:
                        self._again.discard(incident_id)
                        continue
                    return
                wait = self._wait(row.posted_at)
                await asyncio.sleep(wait if wait > 0 else min(self._interval, 0.5))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("posting the card of incident %s failed", incident_id)

    def _wait(self, posted_at: datetime | None) -> float:
        if posted_at is None:
            return 0.0
        return self._interval - (utcnow() - posted_at).total_seconds()

    async def _first_card(self, row: Incident) -> Incident:
        """The buttons and the similar incident, made once, before the first post."""
        actions = await self._make_buttons(row)
        try:
            similar = await self.memory.similar(record_of(row))
        except Exception:  # a card without its similar incident beats no card
            log.exception("the incident memory failed on %s", row.id)
            similar = None
        similar_json = similar.json() if similar is not None else None
        await self._records.save_card_parts(row.id, actions, similar_json)
        row.actions, row.similar = actions, similar_json
        if self.causes is not None:  # the card does not wait for the LLM
            task = asyncio.ensure_future(self._explain(row, similar))
            self._explaining.add(task)
            task.add_done_callback(self._explaining.discard)
        return row

    async def _explain(self, row: Incident, similar: Similar | None) -> None:
        assert self.causes is not None
        try:
            cause = await self.causes.write(record_of(row), similar)
            if cause is not None:
                await self._records.save_cause(row.id, cause)
                self.touch(row.id)
        except Exception:
            log.exception("the probable cause of incident %s was not kept", row.id)

    async def _make_buttons(self, row: Incident) -> list[dict[str, Any]]:
        assert row.room_id is not None
        codes: list[str] = []
        facts = await self._node_facts(row.node) if row.node else None
        if facts is not None and facts[0]:  # the diagnostics act on the node's service
            codes += KIND_ACTIONS.get(row.kind, ())  # type: ignore[call-overload]
        made: list[dict[str, Any]] = []
        for code in [*codes, ACK]:
            ko, en = _LABELS[code]
            label = pick(row.lang, ko, en)
            style = "default"
            if code == "RESTART_SERVICE":
                style = "danger"
                if facts is not None and facts[1] == "prod":
                    label += pick(row.lang, " (승인 필요)", " (needs approval)")
            elif code != ACK and not made:
                style = "primary"
            button = await self._buttons.create(
                room_id=row.room_id,
                command_code=code,
                label=label,
                created_by=BOT_NAME,
                params={"incident_id": row.id, "node": row.node},
                style=style,
                ttl=CARD_BUTTON_TTL,
            )
            made.append(button.model_dump(mode="json"))
        return made
