"""Cancelling a task, by text (`@guardia 취소 T...`) or by its Cancel button.

The requester may cancel their own task; an approver or admin in the task's scope may cancel
anyone's. A task out with its agent is cancelled by the agent (its result ends the task); one
still at the hub ends at once, closing its approval request with it.
"""

from __future__ import annotations

from cmdb.accounts import Identity
from cmdb.tables import ButtonRecord, Task
from hub.audit.log import AuditLog
from hub.commands.authorization import roles_in_scope
from hub.commands.button_router import ButtonRouter
from hub.exceptions import Forbidden, NotUnderstood
from hub.i18n import pick
from hub.rooms.voice import BotVoice
from hub.tasks.service import TaskService
from hub.tasks.states import TaskState, is_final
from hub.tasks.store import task_scope


def may_cancel(identity: Identity, task: Task) -> bool:
    if identity.name == task.requested_by:
        return True
    plan = task.plan or {}
    roles = roles_in_scope(identity, plan.get("institution"), plan.get("system_name"))
    return bool(roles & {"approver", "admin"})


class TaskCanceller:
    def __init__(self, tasks: TaskService, voice: BotVoice, audit: AuditLog) -> None:
        self._tasks = tasks
        self._voice = voice
        self._audit = audit

    def register_buttons(self, router: ButtonRouter) -> None:
        router.register("CANCEL_TASK", self.on_cancel_button)

    async def cancel(self, identity: Identity, room_id: str, task_id: str, lang: str) -> None:
        task = await self._tasks.store.get(task_id)
        if task is None or task.room_id != room_id:
            raise NotUnderstood(
                pick(lang, f"작업 {task_id}이(가) 없습니다.", f"No task {task_id}.")
            )
        if not may_cancel(identity, task):
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
        await self._audit.append(
            identity.name, "cancel", {"status": task.status}, task_id, task_scope(task)
        )
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
            "CANCELLED",
            identity.name,
        )

    async def on_cancel_button(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        await self.cancel(identity, record.room_id, str(record.params["task_id"]), lang)
