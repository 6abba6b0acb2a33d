"""The proactive bot's buttons: run the diagnostic, dismiss a false alarm, mute the room.

- Run (`command_code` = the action, params `suggestion` and, when the line named no system,
  `system`): the presser's own authorization, exactly as for a typed command. The plan goes
  through `CommandPipeline.proceed`, which checks the room's scope and the presser's roles,
  audits, creates the task, posts COMMAND_PLAN and dispatches; the same checks run first
  here so that a refused press (a viewer's) leaves the buttons for someone who may.
- Dismiss (`DISMISS_SUGGESTION`): any member; the line becomes a `none` exemplar for the
  room's scope (SymptomDetector.dismiss), so the same false alarm does not come back. It
  is learned before the buttons are spent: a store that cannot be reached refuses the
  press (the buttons stay) rather than lose the lesson.
- Mute (`MUTE_SUGGESTIONS`): operators, approvers and admins of the room's scope; no
  suggestion in the room until GUARDIA_SUGGEST_MUTE seconds have passed, on any hub.
A press that does its work spends all of the suggestion's buttons and settles its record.
"""

from __future__ import annotations

import asyncio
import logging

from cmdb.accounts import Identity
from cmdb.grants import parse_scope
from cmdb.index import CmdbIndex
from cmdb.tables import ButtonRecord, Room, SuggestionRecord
from hub.audit.log import AuditLog
from hub.bot.proactive import ProactiveBot
from hub.bot.suggestion_card import duration_words
from hub.commands.authorization import require_command, roles_in_scope
from hub.commands.button_router import ButtonRouter
from hub.commands.buttons import ButtonStore
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.commands.pipeline import CommandPipeline
from hub.commands.room_scope import require_in_room, systems_in_room
from hub.exceptions import Forbidden, HubError, NotUnderstood, UnknownAction, UnknownRoom
from hub.i18n import pick
from hub.parser.grounding import system_label
from hub.parser.plan import Plan
from hub.rooms.directory import RoomDirectory
from hub.rooms.voice import BotVoice
from hub.suggest.exceptions import SuggestError
from hub.suggest.grounding import ground
from hub.suggest.kinds import KINDS
from hub.suggest.scope import Scope
from hub.tasks.store import iso, scope_text

log = logging.getLogger("guardia.hub.suggest")

#: the actions a suggestion's run button may carry (the kinds' diagnostics)
SUGGESTED_ACTIONS = tuple(sorted({kind.action for kind in KINDS.values()}))
_MUTERS = frozenset({"operator", "approver", "admin"})


def _store_unavailable(lang: str) -> HubError:
    return HubError(
        pick(
            lang,
            "지금은 제안 학습 저장소를 쓸 수 없습니다. 잠시 후 다시 눌러 주세요.",
            "The suggestions' store cannot be reached now; press again in a moment.",
        )
    )


class SuggestionButtons:
    def __init__(
        self,
        *,
        bot: ProactiveBot,
        pipeline: CommandPipeline,
        rooms: RoomDirectory,
        cmdb: CmdbSnapshot,
        buttons: ButtonStore,
        voice: BotVoice,
        audit: AuditLog,
    ) -> None:
        self._bot = bot
        self._pipeline = pipeline
        self._rooms = rooms
        self._cmdb = cmdb
        self._buttons = buttons
        self._voice = voice
        self._audit = audit

    def register_buttons(self, router: ButtonRouter) -> None:
        for action in SUGGESTED_ACTIONS:
            router.register(action, self.on_run, owner_param="suggestion")
        router.register("DISMISS_SUGGESTION", self.on_dismiss)
        router.register("MUTE_SUGGESTIONS", self.on_mute)

    async def _load(self, record: ButtonRecord, lang: str) -> tuple[SuggestionRecord, Room]:
        suggestion = await self._bot.store.get(str(record.params.get("suggestion")))
        if suggestion is None or suggestion.room_id != record.room_id:
            raise UnknownAction(
                pick(lang, "이 방에 그런 제안이 없습니다.", "There is no such suggestion here.")
            )
        room = await self._rooms.get(record.room_id)
        if room is None:
            raise UnknownRoom(record.room_id)
        return suggestion, room

    # -- run -------------------------------------------------------------------------------

    async def on_run(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        suggestion, room = await self._load(record, lang)
        index = await self._cmdb.index()
        system = record.params.get("system")
        plan = (
            Plan.model_validate(suggestion.plan)
            if system is None
            else self._plan_for(suggestion, str(system), room, index, lang)
        )
        # the pipeline checks these again; here a refusal leaves the buttons unspent
        require_in_room(room, plan.institution, plan.system_name, lang)
        require_command(identity, plan.institution, plan.system_name, lang)
        await self._buttons.claim(record, identity.name, lang, also=suggestion.action_ids)
        await self._bot.store.settle(suggestion.id, "pressed", identity.name)
        await self._audit.append(
            identity.name,
            "suggestion_run",
            {
                "suggestion": suggestion.id,
                "text": suggestion.text,
                "plan": plan.model_dump(mode="json"),
            },
            None,
            scope_text(plan.institution, plan.system_name),
        )
        tasks = await self._pipeline.proceed(identity, room, plan, index, lang)
        await self._bot.store.add_tasks(suggestion.id, [task.id for task in tasks])

    def _plan_for(
        self, suggestion: SuggestionRecord, code: str, room: Room, index: CmdbIndex, lang: str
    ) -> Plan:
        """The suggestion's plan on the system a person chose (the line named none)."""
        entry = index.system(code)
        if entry is None or code not in {s.code for s in systems_in_room(index, room)}:
            raise Forbidden(
                pick(
                    lang,
                    f"이 방({room.scope})의 범위 밖에 있는 시스템은 여기서 실행할 수 없습니다.",
                    f"That system is outside this room's scope ({room.scope}).",
                )
            )
        kind = KINDS[suggestion.kind]  # type: ignore[index]
        scope = Scope(entry.institution_code, entry.code)
        # the line as said (it may name a layer or a node), else the system's default targets
        for text in (suggestion.text, ""):
            plan = ground(kind, text, scope, index).plan
            if plan.system_name == code and not plan.needs_clarification and plan.target_nodes:
                return plan
        raise NotUnderstood(
            pick(
                lang,
                f"{system_label(entry)}에는 이 점검을 실행할 서버가 없습니다.",
                f"{system_label(entry)} has no servers this check runs on.",
            )
        )

    # -- dismiss ---------------------------------------------------------------------------

    async def on_dismiss(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        suggestion, room = await self._load(record, lang)
        detector = await self._bot.detector()
        if detector is None:
            raise _store_unavailable(lang)
        # learned before the buttons are shown spent: whoever sees them spent, on any hub
        # sharing the store, is already past the false alarm
        index = await self._cmdb.index()
        try:
            await asyncio.to_thread(detector.dismiss, suggestion.text, room.scope, index)
        except SuggestError as exc:
            log.error("dismissal of %s could not be learned: %s", suggestion.id, exc)
            raise _store_unavailable(lang) from None
        await self._buttons.claim(record, identity.name, lang, also=suggestion.action_ids)
        await self._bot.store.settle(suggestion.id, "dismissed", identity.name)
        await self._audit.append(
            identity.name,
            "suggestion_dismissed",
            {"suggestion": suggestion.id, "kind": suggestion.kind},
            None,
            room.scope,
        )

    # -- mute ------------------------------------------------------------------------------

    async def on_mute(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        suggestion, room = await self._load(record, lang)
        inst, system = parse_scope(room.scope)
        if not roles_in_scope(identity, inst, system) & _MUTERS:
            raise Forbidden(
                pick(
                    lang,
                    f"{identity.name}님은 이 방의 제안을 끌 수 없습니다(운영자와 관리자만 가능).",
                    f"{identity.name} may not mute suggestions here (operators and admins may).",
                )
            )
        await self._buttons.claim(record, identity.name, lang, also=suggestion.action_ids)
        await self._bot.store.settle(suggestion.id, "muted", identity.name)
        seconds = self._bot.settings.mute
        until = await self._bot.store.mute(room.id, identity.name, seconds)
        await self._audit.append(
            identity.name,
            "suggestions_muted",
            {"suggestion": suggestion.id, "until": iso(until)},
            None,
            room.scope,
        )
        length = duration_words(seconds, lang)
        await self._voice.say(
            room.id,
            pick(
                lang,
                f"{identity.name}님이 이 방의 제안을 {length} 동안 껐습니다.",
                f"{identity.name} muted suggestions in this room for {length}.",
            ),
        )
