"""From a sentence in a room to tasks on agents: parse, ask back, authorize, plan, dispatch.

The order: parse -> (ask back with buttons when the plan needs clarification) -> authorize
-> COMMAND_PLAN to the room -> approval when policy asks (hub/approvals.py) -> dispatch.
Every decision goes to the audit chain.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cmdb.accounts import Identity
from cmdb.grants import parse_scope
from cmdb.index import CmdbIndex, SystemEntry
from cmdb.tables import ButtonRecord, Room, Task
from hub.audit.log import AuditLog
from hub.commands.approvals import ApprovalService
from hub.commands.authorization import require_command
from hub.commands.button_router import ButtonRouter
from hub.commands.buttons import ButtonStore
from hub.commands.cancel import TaskCanceller
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.commands.plan_text import describe_plan, examples
from hub.commands.room_scope import require_commandable, require_in_room, systems_in_room
from hub.exceptions import Forbidden, IllegalTransition, NotUnderstood, UnknownRoom
from hub.i18n import lang_of, pick
from hub.ops import command_span, log_context
from hub.parser import UNKNOWN, CommandTooLong, Plan, Scope, builtin_parser
from hub.rooms.directory import RoomDirectory
from hub.rooms.voice import BOT_NAME, BotVoice
from hub.tasks.service import TaskService
from hub.tasks.states import TaskState
from hub.tasks.steps import StepPlanner
from hub.tasks.store import scope_text
from protocol import CommandPlan

log = logging.getLogger("guardia.hub.pipeline")

_CANCEL = re.compile(r"^(?:취소|cancel|중지|stop)\s+(T[0-9A-F]{12})\b", re.IGNORECASE)
_CANCEL_AFTER = re.compile(r"^(T[0-9A-F]{12})\s*(?:취소|중지)", re.IGNORECASE)


class CommandPipeline:
    def __init__(
        self,
        *,
        cmdb: CmdbSnapshot,
        rooms: RoomDirectory,
        planner: StepPlanner,
        tasks: TaskService,
        approvals: ApprovalService,
        canceller: TaskCanceller,
        buttons: ButtonStore,
        voice: BotVoice,
        audit: AuditLog,
        llm_base_url: str | None = None,
    ) -> None:
        self.cmdb = cmdb
        self._rooms = rooms
        self._canceller = canceller
        self._planner = planner
        self._tasks = tasks
        self._approvals = approvals
        self._buttons = buttons
        self._voice = voice
        self._audit_log = audit
        self._llm_base_url = llm_base_url
        self._llm: Any = None  # hub.parser.LlmParser, built for the current index
        self._llm_index: CmdbIndex | None = None

    def register_buttons(self, router: ButtonRouter) -> None:
        router.register("CLARIFY", self.on_clarify)

    # -- parsing ---------------------------------------------------------------------------

    async def parse(self, text: str, index: CmdbIndex, scope: Scope | None = None) -> Plan:
        if self._llm_base_url is None:
            return builtin_parser(index).parse(text, scope=scope)
        from hub.parser import LlmParser, LlmSettings

        if self._llm is None or self._llm_index is not index:
            settings = LlmSettings.from_env()
            if settings is None:
                return builtin_parser(index).parse(text, scope=scope)
            if self._llm is not None:
                await self._llm.aclose()
            self._llm, self._llm_index = LlmParser(index, settings), index
        plan: Plan = await self._llm.parse(text, scope=scope)
        return plan

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()

    # -- a command addressed to the bot ------------------------------------------------------

    async def run(self, identity: Identity, room_id: str, text: str) -> list[Task]:
        """Carry out a command; returns the tasks it created (none when it asked back).

        Counted in guardia_commands_total by intent and outcome; its log lines carry the
        room and the user, and the task once there is one."""
        with log_context.bound(room_id=room_id, user=identity.name), command_span.around():
            return await self._run(identity, room_id, text)

    async def _run(self, identity: Identity, room_id: str, text: str) -> list[Task]:
        lang = lang_of(text)
        cancel = _CANCEL.match(text) or _CANCEL_AFTER.match(text)
        if cancel:
            command_span.outcome("cancel", "CANCEL")
            await self._canceller.cancel(identity, room_id, cancel.group(1).upper(), lang)
            return []
        room = await self._rooms.get(room_id)
        if room is None:
            raise UnknownRoom(pick(lang, f"방 {room_id}이(가) 없습니다.", f"No room {room_id}."))
        # refused before anything is parsed or audited: a viewer's spam grows nothing
        require_commandable(room, lang)
        inst, system = parse_scope(room.scope)
        require_command(identity, inst, system, lang)
        index = await self.cmdb.index()
        started = time.perf_counter()
        try:
            plan = await self.parse(text, index, (inst, system))
        except CommandTooLong as exc:
            raise NotUnderstood(str(exc)) from None
        parser = "builtin" if self._llm_base_url is None else "llm"
        command_span.parsed(plan.intent_type, parser, time.perf_counter() - started)
        log.info("command of %s parsed as %s", identity.name, plan.intent_type)
        await self._audit(
            identity.name,
            "parse",
            {"text": text, "plan": plan.model_dump()},
            scope=scope_text(plan.institution, plan.system_name) or room.scope,
        )
        in_room = systems_in_room(index, room)
        if plan.intent_type == "UNKNOWN":
            command_span.outcome("not_understood")
            await self._voice.say(
                room_id,
                pick(
                    lang,
                    "무슨 작업인지 이해하지 못했습니다. 이렇게 말씀해 보세요:\n",
                    "I did not understand which operation you mean. Try for example:\n",
                )
                + examples(in_room, lang),
            )
            return []
        if UNKNOWN in (plan.institution, plan.system_name):
            command_span.outcome("asked_back")
            await self._ask_which_system(identity, room_id, text, plan, index, lang, in_room)
            return []
        if plan.needs_clarification:
            command_span.outcome("asked_back")
            await self.ask_back(identity, room_id, text, plan, index, lang, in_room)
            return []
        return await self.proceed(identity, room, plan, index, lang)

    async def _ask_which_system(
        self,
        identity: Identity,
        room_id: str,
        text: str,
        plan: Plan,
        index: CmdbIndex,
        lang: str,
        in_room: list[SystemEntry],
    ) -> None:
        """Which system? Offered only among the room's: a question must not tell the room
        about systems its members may not see, and the parser's own may list any."""
        here = {s.code for s in in_room}
        offered = [c for c in plan.system_candidates if c in here]
        if plan.system_candidates and len(offered) == len(plan.system_candidates):
            question = plan.question  # every system it names belongs to this room
        elif offered:
            question = pick(
                lang,
                "어느 시스템인가요? 이 방의 시스템 중에서 골라 주세요.",
                "Which system do you mean? Choose one of this room's systems.",
            )
        else:
            offered = [s.code for s in in_room if plan.institution in (UNKNOWN, s.institution_code)]
            question = pick(
                lang,
                "어느 시스템인지 알 수 없습니다. 이 방의 시스템 중에서 골라 주세요.",
                "I could not tell which system you mean. Choose one of this room's systems.",
            )
        if not offered:
            question = pick(lang, "이 방에는 시스템이 없습니다.", "This room has no systems.")
        plan = plan.model_copy(
            update={
                "question": question,
                "system_name": UNKNOWN,
                "system_candidates": tuple(offered),
            }
        )
        await self.ask_back(identity, room_id, text, plan, index, lang, in_room)

    async def ask_back(
        self,
        identity: Identity,
        room_id: str,
        text: str,
        plan: Plan,
        index: CmdbIndex,
        lang: str,
        in_room: list[SystemEntry],
    ) -> None:
        """Ask the plan's question, with a button per choice that continues the command.

        Choices are only ever inside the room's scope: a question must not tell the room
        about systems its members may not see.
        """
        choices: list[tuple[str, str]] = []  # (label, what to add to the sentence)
        if plan.system_name == UNKNOWN or index.system(plan.system_name) is None:
            choices = [(s.name, s.code) for s in in_room if s.code in plan.system_candidates]
        elif plan.infrastructure_layer is None and plan.intent_type != "DEPLOY":
            for layer in ("WAS", "WEB", "DB"):
                nodes = index.nodes_of(plan.system_name, layer)
                if nodes:
                    choices.append((f"{layer} ({len(nodes)})", layer))
            nodes = index.nodes_of(plan.system_name)
            if len(nodes) <= 6:
                choices += [(n.asset_code, n.asset_code) for n in nodes]
        elif plan.intent_type == "DEPLOY" and plan.infrastructure_layer is None:
            for layer in ("WAS", "WEB", "DB"):
                if index.nodes_of(plan.system_name, layer):  # type: ignore[arg-type]
                    choices.append((layer, layer))
        buttons = [
            await self._buttons.create(
                room_id=room_id,
                command_code="CLARIFY",
                label=label,
                created_by=identity.name,
                params={"text": text, "add": add, "requester": identity.name},
            )
            for label, add in choices[:10]
        ]
        await self._voice.say(
            room_id,
            plan.question or pick(lang, "대상을 골라 주세요.", "Please choose the target."),
            is_widget=bool(buttons),
            interactive_actions=buttons,
        )

    async def on_clarify(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        requester = str(record.params.get("requester"))
        if identity.name != requester:
            raise Forbidden(
                pick(
                    lang,
                    f"{requester}님에게 드린 질문입니다.",
                    f"This question was for {requester}.",
                )
            )
        await self._buttons.claim(record, identity.name, lang)
        text = f"{record.params['text']} {record.params['add']}"
        await self.run(identity, record.room_id, text)

    # -- from an understood plan to tasks ----------------------------------------------------

    async def proceed_in_room(
        self,
        identity: Identity,
        room_id: str,
        plan: Plan,
        lang: str,
        on_created: Callable[[Task], Awaitable[None]] | None = None,
    ) -> list[Task]:
        """`proceed` for a plan made elsewhere (a card's or a suggestion's button)."""
        room = await self._rooms.get(room_id)
        if room is None:
            raise UnknownRoom(pick(lang, f"방 {room_id}이(가) 없습니다.", f"No room {room_id}."))
        return await self.proceed(identity, room, plan, await self.cmdb.index(), lang, on_created)

    async def proceed(
        self,
        identity: Identity,
        room: Room,
        plan: Plan,
        index: CmdbIndex,
        lang: str,
        on_created: Callable[[Task], Awaitable[None]] | None = None,
    ) -> list[Task]:
        """The tasks of an understood plan, created, shown and sent on (or to approval);
        `on_created` sees each task before it is sent."""
        room_id = room.id
        created: list[Task] = []
        try:
            require_in_room(room, plan.institution, plan.system_name, lang)
            require_command(identity, plan.institution, plan.system_name, lang)
        except Forbidden as exc:
            await self._audit(
                identity.name,
                "refused",
                {"reason": exc.message, "plan": plan.model_dump(), "room": room.id},
                scope=scope_text(plan.institution, plan.system_name) or room.scope,
            )
            raise
        planned = await self._planner.plan(plan, index, lang)
        system = index.system(plan.system_name)
        for agent_id, (task_id, steps) in planned.by_agent.items():
            task = await self._tasks.store.create(
                task_id=task_id,
                room_id=room_id,
                requested_by=identity.name,
                agent_id=agent_id,
                steps=steps,
                plan=plan.model_dump(mode="json"),
                lang=lang,
                cause=f"command by {identity.name}",
            )
            if on_created is not None:
                await on_created(task)
            log_context.about_task(task)
            cancel = await self._buttons.create(
                room_id=room_id,
                command_code="CANCEL_TASK",
                label=pick(lang, "취소", "Cancel"),
                created_by=BOT_NAME,
                params={"task_id": task.id},
                style="danger",
                task_id=task.id,
            )
            await self._voice.post(
                CommandPlan(
                    room_id=room_id,
                    sender=BOT_NAME,
                    sender_type="BOT",
                    task_id=task.id,
                    plan=plan.model_dump(mode="json"),
                    requires_approval=plan.requires_approval,
                    artifacts=planned.artifacts,
                    requested_by=identity.name,
                    system_label=system.name if system is not None else None,
                    content=describe_plan(plan, index, lang, task.id, planned.artifacts),
                    is_widget=True,
                    interactive_actions=[cancel],
                )
            )
            command_span.planned()
            command_span.outcome("approval" if plan.requires_approval else "dispatched")
            try:
                if plan.requires_approval:
                    await self._approvals.request(task, identity, plan, lang, planned.artifacts)
                else:
                    await self._audit(
                        identity.name,
                        "dispatch",
                        {"agent": agent_id},
                        task.id,
                        scope_text(plan.institution, plan.system_name),
                    )
                    await self._tasks.dispatch(task)
            except Exception:
                # the room has seen the plan: never leave it waiting on a task that cannot go
                log.exception("task %s could not be sent on", task.id)
                why = pick(
                    lang, "내부 오류로 작업을 보내지 못했습니다", "an internal error stopped it"
                )
                current = await self._tasks.store.get(task.id) or task
                with contextlib.suppress(IllegalTransition):  # it may have ended meanwhile
                    await self._tasks.finish_here(current, TaskState.FAILED, why, "INTERNAL")
                raise
            created.append(task)
        return created

    async def _audit(
        self,
        actor: str,
        kind: str,
        detail: dict[str, Any],
        task_id: str | None = None,
        scope: str | None = None,
    ) -> None:
        await self._audit_log.append(actor, kind, detail, task_id, scope)
