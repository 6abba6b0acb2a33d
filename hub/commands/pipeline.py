"""From a sentence in a room to tasks on agents: parse, ask back, authorize, plan, dispatch.

The order: parse -> (ask back with buttons when the plan needs clarification) -> authorize
-> COMMAND_PLAN to the room -> approval when policy asks (hub/approvals.py) -> dispatch.
Every decision goes to the audit chain.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from cmdb.accounts import Identity
from cmdb.index import CmdbIndex
from cmdb.tables import ButtonRecord, Task
from hub.audit.log import AuditLog
from hub.commands.approvals import ApprovalService
from hub.commands.authorization import require_command, roles_in_scope
from hub.commands.button_router import ButtonRouter
from hub.commands.buttons import ButtonStore
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.commands.plan_text import describe_plan, examples
from hub.exceptions import Forbidden, IllegalTransition, NotUnderstood
from hub.i18n import lang_of, pick
from hub.parser import UNKNOWN, CommandTooLong, Plan, builtin_parser
from hub.rooms.voice import BOT_NAME, BotVoice
from hub.tasks.service import TaskService
from hub.tasks.states import TaskState, is_final
from hub.tasks.steps import StepPlanner
from protocol import CommandPlan

log = logging.getLogger("guardia.hub.pipeline")

_CANCEL = re.compile(r"^(?:취소|cancel|중지|stop)\s+(T[0-9A-F]{12})\b", re.IGNORECASE)
_CANCEL_AFTER = re.compile(r"^(T[0-9A-F]{12})\s*(?:취소|중지)", re.IGNORECASE)


class CommandPipeline:
    def __init__(
        self,
        *,
        cmdb: CmdbSnapshot,
        planner: StepPlanner,
        tasks: TaskService,
        approvals: ApprovalService,
        buttons: ButtonStore,
        voice: BotVoice,
        audit: AuditLog,
        llm_base_url: str | None = None,
    ) -> None:
        self.cmdb = cmdb
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
        router.register("CANCEL_TASK", self.on_cancel_button)

    # -- parsing ---------------------------------------------------------------------------

    async def parse(self, text: str, index: CmdbIndex) -> Plan:
        if self._llm_base_url is None:
            return builtin_parser(index).parse(text)
        from hub.parser import LlmParser, LlmSettings

        if self._llm is None or self._llm_index is not index:
            settings = LlmSettings.from_env()
            if settings is None:
                return builtin_parser(index).parse(text)
            if self._llm is not None:
                await self._llm.aclose()
            self._llm, self._llm_index = LlmParser(index, settings), index
        plan: Plan = await self._llm.parse(text)
        return plan

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()

    # -- a command addressed to the bot ------------------------------------------------------

    async def run(self, identity: Identity, room_id: str, text: str) -> None:
        lang = lang_of(text)
        cancel = _CANCEL.match(text) or _CANCEL_AFTER.match(text)
        if cancel:
            await self.cancel(identity, room_id, cancel.group(1).upper(), lang)
            return
        index = await self.cmdb.index()
        try:
            plan = await self.parse(text, index)
        except CommandTooLong as exc:
            raise NotUnderstood(str(exc)) from None
        await self._audit(identity.name, "parse", {"text": text, "plan": plan.model_dump()})
        if plan.intent_type == "UNKNOWN":
            await self._voice.say(
                room_id,
                pick(
                    lang,
                    "무슨 작업인지 이해하지 못했습니다. 이렇게 말씀해 보세요:\n",
                    "I did not understand which operation you mean. Try for example:\n",
                )
                + examples(index, lang),
            )
            return
        if UNKNOWN in (plan.institution, plan.system_name):
            await self._voice.say(
                room_id,
                pick(
                    lang,
                    "CMDB에 없는 기관이나 시스템입니다. 등록된 시스템: ",
                    "That institution or system is not in the CMDB. Known systems: ",
                )
                + ", ".join(f"{s.name} ({s.code})" for s in index.systems),
            )
            return
        if plan.needs_clarification:
            await self.ask_back(identity, room_id, text, plan, index, lang)
            return
        await self.proceed(identity, room_id, plan, index, lang)

    async def ask_back(
        self,
        identity: Identity,
        room_id: str,
        text: str,
        plan: Plan,
        index: CmdbIndex,
        lang: str,
    ) -> None:
        """Ask the plan's question, with a button per choice that continues the command."""
        choices: list[tuple[str, str]] = []  # (label, what to add to the sentence)
        if plan.system_name == UNKNOWN or index.system(plan.system_name) is None:
            choices = [(f"{s.name}", s.code) for s in index.systems_of(plan.institution)]
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

    async def proceed(
        self,
        identity: Identity,
        room_id: str,
        plan: Plan,
        index: CmdbIndex,
        lang: str,
        on_created: Callable[[Task], Awaitable[None]] | None = None,
    ) -> None:
        """Authorize, store and send a plan's tasks; `on_created` sees each before it is sent."""
        try:
            require_command(identity, plan.institution, plan.system_name, lang)
        except Forbidden as exc:
            await self._audit(
                identity.name, "refused", {"reason": exc.message, "plan": plan.model_dump()}
            )
            raise
        groups = await self._planner.steps_by_agent(plan, index, lang)
        for agent_id, (task_id, steps) in groups.items():
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
                    content=describe_plan(plan, index, lang, task.id),
                    is_widget=True,
                    interactive_actions=[cancel],
                )
            )
            try:
                if plan.requires_approval:
                    await self._approvals.request(task, identity, plan, lang)
                else:
                    await self._audit(identity.name, "dispatch", {"agent": agent_id}, task.id)
                    await self._tasks.dispatch(task)
            except Exception:
                # the room has seen the plan: never leave it waiting on a task that cannot go
                log.exception("task %s could not be sent on", task.id)
                why = pick(
                    lang, "내부 오류로 작업을 보내지 못했습니다", "an internal error stopped it"
                )
                current = await self._tasks.store.get(task.id) or task
                with contextlib.suppress(IllegalTransition):  # it may have ended meanwhile
                    await self._tasks.finish_here(current, TaskState.FAILED, why)
                raise

    # -- cancelling ------------------------------------------------------------------------

    async def cancel(self, identity: Identity, room_id: str, task_id: str, lang: str) -> None:
        task = await self._tasks.store.get(task_id)
        if task is None or task.room_id != room_id:
            raise NotUnderstood(
                pick(lang, f"작업 {task_id}이(가) 없습니다.", f"No task {task_id}.")
            )
        plan = task.plan or {}
        if identity.name != task.requested_by:
            roles = roles_in_scope(identity, plan.get("institution"), plan.get("system_name"))
            if not roles & {"approver", "admin"}:
                raise Forbidden(
                    pick(
                        lang,
                        "요청자 본인이나 승인자만 작업을 취소할 수 있습니다.",
                        "Only the requester or an approver may cancel this task.",
                    )
                )
        if is_final(task.status):
            await self._voice.say(
                room_id,
                pick(
                    lang,
                    f"작업 {task_id}는 이미 {task.status} 상태입니다.",
                    f"Task {task_id} is already {task.status}.",
                ),
            )
            return
        await self._audit(identity.name, "cancel", {"status": task.status}, task_id)
        if task.status in (TaskState.DISPATCHED, TaskState.RUNNING):
            await self._tasks.cancel_on_agent(task)
            await self._voice.say(
                room_id,
                pick(
                    lang,
                    f"작업 {task_id} 취소를 에이전트에 요청했습니다.",
                    f"Asked the agent to cancel task {task_id}.",
                ),
            )
            return
        await self._tasks.finish_here(
            task,
            TaskState.CANCELLED,
            pick(lang, f"{identity.name}님이 취소", f"cancelled by {identity.name}"),
        )

    async def on_cancel_button(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        await self.cancel(identity, record.room_id, str(record.params["task_id"]), lang)

    async def _audit(
        self, actor: str, kind: str, detail: dict[str, Any], task_id: str | None = None
    ) -> None:
        await self._audit_log.append(actor, kind, detail, task_id)
