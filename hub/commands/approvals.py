"""Approvals: a prod change waits for someone else, in scope, to approve it before it expires.

The first valid decision wins (one conditional UPDATE decides it); later presses are told
who decided. The approval lifecycle rides on the task's state machine:
PENDING_APPROVAL -> APPROVED | REJECTED | EXPIRED.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from cmdb.database import run
from cmdb.tables import Approval, ButtonRecord, Task, utcnow
from hub.audit.log import AuditLog
from hub.commands.authorization import require_approver
from hub.commands.button_router import ButtonRouter
from hub.commands.buttons import ButtonStore
from hub.commands.plan_text import artifact_lines
from hub.exceptions import ActionExpired, IllegalTransition
from hub.i18n import pick
from hub.parser import Plan
from hub.rooms.voice import BOT_NAME, BotVoice
from hub.tasks.service import TaskService
from hub.tasks.states import TaskState
from hub.tasks.store import iso, scope_text, task_scope
from protocol import ApprovalRequest, ArtifactInfo, TaskUpdate


class ApprovalService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl: float,
        tasks: TaskService,
        buttons: ButtonStore,
        voice: BotVoice,
        audit: AuditLog,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._tasks = tasks
        self._buttons = buttons
        self._voice = voice
        self._audit = audit

    def register_buttons(self, router: ButtonRouter) -> None:
        router.register("APPROVE", self.on_decision)
        router.register("REJECT", self.on_decision)

    async def request(
        self,
        task: Task,
        requester: Identity,
        plan: Plan,
        lang: str,
        artifacts: list[ArtifactInfo] | None = None,
    ) -> None:
        ttl = self._ttl
        expires = utcnow() + timedelta(seconds=ttl)
        await self._tasks.store.transition(
            task.id, TaskState.PENDING_APPROVAL, "policy: prod change"
        )
        async with self._sessions() as session:
            session.add(
                Approval(
                    task_id=task.id,
                    requested_by=requester.name,
                    scope=f"{plan.institution}/{plan.system_name}",
                    expires_at=expires,
                )
            )
            await session.commit()
        await self._audit.append(
            requester.name,
            "approval_requested",
            {"expires_at": iso(expires)},
            task.id,
            scope_text(plan.institution, plan.system_name),
        )
        assert task.room_id is not None
        buttons = [
            await self._buttons.create(
                room_id=task.room_id,
                command_code=code,
                label=label,
                created_by=BOT_NAME,
                params={"task_id": task.id},
                style=style,
                ttl=ttl,
                task_id=task.id,
            )
            for code, label, style in (
                ("APPROVE", pick(lang, "승인", "Approve"), "primary"),
                ("REJECT", pick(lang, "반려", "Reject"), "danger"),
            )
        ]
        await self._voice.post(
            ApprovalRequest(
                room_id=task.room_id,
                sender=BOT_NAME,
                sender_type="BOT",
                task_id=task.id,
                requested_by=requester.name,
                plan=plan.model_dump(mode="json"),
                expires_at=iso(expires),
                artifacts=artifacts or [],
                is_widget=True,
                interactive_actions=buttons,
                content=pick(
                    lang,
                    f"{requester.name}님의 운영 변경 요청 {task.id}: 승인자의 승인이 필요합니다 "
                    f"({round(ttl / 60)}분 안에).",
                    f"{requester.name} requests production change {task.id}: an approver must "
                    f"decide within {round(ttl / 60)} min.",
                )
                + artifact_lines(artifacts or [], lang),
            )
        )

    async def on_decision(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        task_id = str(record.params["task_id"])
        approve = record.command_code == "APPROVE"
        async with self._sessions() as session:
            approval = await session.get(Approval, task_id)
            task = await session.get(Task, task_id)
        if approval is None or task is None:
            raise ActionExpired(pick(lang, "없는 승인 요청입니다.", "No such approval request."))
        lang = task.lang
        inst, _, system = (approval.scope or "/").partition("/")
        require_approver(identity, approval.requested_by, inst or None, system or None, lang)
        if approval.decision is not None:
            raise ActionExpired(self._decided(approval, lang))
        now = utcnow()
        if approval.expires_at <= now:
            raise ActionExpired(
                pick(lang, "만료된 승인 요청입니다.", "This approval request has expired.")
            )
        decision = TaskState.APPROVED if approve else TaskState.REJECTED

        async def decide(session: AsyncSession, task: Task) -> None:
            # the approval, its buttons and the task change in one transaction, or none does
            won = await run(
                session,
                sa.update(Approval)
                .where(
                    col(Approval.task_id) == task_id,
                    col(Approval.decision).is_(None),
                    col(Approval.expires_at) > now,
                )
                .values(decision=decision.value, decided_by=identity.name, decided_at=now),
            )
            if won.rowcount != 1:
                raise ActionExpired(
                    pick(lang, "이미 결정된 요청입니다.", "This request was already decided.")
                )
            spent = (
                await run(
                    session,
                    sa.update(ButtonRecord)
                    .where(
                        col(ButtonRecord.task_id) == task_id,
                        col(ButtonRecord.used_at).is_(None),
                        col(ButtonRecord.command_code).in_(["APPROVE", "REJECT"]),
                    )
                    .values(used_at=now, used_by=identity.name)
                    .returning(col(ButtonRecord.action_id)),
                )
            ).scalars()
            used.extend(spent)

        verb = "approved" if approve else "rejected"
        used: list[str] = []
        try:
            task = await self._tasks.store.transition(
                task_id,
                decision,
                f"{verb} by {identity.name}",
                within=decide,
                **({"approved_by": [identity.name]} if approve else {}),
            )
        except IllegalTransition:
            # the task ended meanwhile (cancelled): nothing to decide any more
            raise ActionExpired(
                pick(
                    lang,
                    f"작업 {task_id}는 이미 끝났습니다. 승인할 것이 없습니다.",
                    f"Task {task_id} has already ended; there is nothing to decide.",
                )
            ) from None
        await self._audit.append(
            identity.name, verb, {"requested_by": approval.requested_by}, task_id, approval.scope
        )
        await self._buttons.announce(record.room_id, [record.action_id], "USED", identity.name)
        others = [a for a in used if a != record.action_id]
        if others:
            await self._buttons.announce(record.room_id, others, "CLOSED", identity.name)
        if approve:
            said = pick(
                lang,
                f"{identity.name}님이 {task_id}를 승인했습니다. 실행합니다.",
                f"{identity.name} approved {task_id}. Running it.",
            )
            await self._voice.say(record.room_id, said)
            # the same, for clients: who decided, on the task's own timeline
            await self._voice.post(
                TaskUpdate(
                    room_id=record.room_id,
                    sender=BOT_NAME,
                    sender_type="SYSTEM",
                    task_id=task_id,
                    status="APPROVED",
                    message=f"approved by {identity.name}",
                    actor=identity.name,
                )
            )
            await self._audit.append(
                identity.name, "dispatch", {"agent": task.agent_id}, task_id, approval.scope
            )
            await self._tasks.dispatch(task)
        else:
            await self._tasks.finish_here(
                task,
                None,
                pick(lang, f"{identity.name}님이 반려했습니다", f"rejected by {identity.name}"),
                "REJECTED",
                identity.name,
            )

    @staticmethod
    def _decided(approval: Approval, lang: str) -> str:
        word = {
            "APPROVED": ("승인", "approved"),
            "REJECTED": ("반려", "rejected"),
            "EXPIRED": ("만료", "expired"),
            "CANCELLED": ("취소", "cancelled"),
        }.get(approval.decision or "", ("종료", "closed"))
        if approval.decided_by:
            return pick(
                lang,
                f"이미 {approval.decided_by}님이 {word[0]}했습니다.",
                f"Already {word[1]} by {approval.decided_by}.",
            )
        return pick(lang, f"이미 {word[0]}된 요청입니다.", f"This request has already {word[1]}.")

    async def sweep(self) -> None:
        """Expire approval requests nobody decided in time, each with its task."""
        now = utcnow()
        async with self._sessions() as session:
            due = list(
                await session.exec(
                    select(Approval).where(
                        col(Approval.decision).is_(None), col(Approval.expires_at) <= now
                    )
                )
            )
        for approval in due:
            await self._expire(approval.task_id, now)

    async def _expire(self, task_id: str, now: datetime) -> None:
        async def expire(session: AsyncSession, task: Task) -> None:
            won = await run(
                session,
                sa.update(Approval)
                .where(col(Approval.task_id) == task_id, col(Approval.decision).is_(None))
                .values(decision=TaskState.EXPIRED.value, decided_at=now),
            )
            if won.rowcount != 1:
                raise ActionExpired("decided meanwhile")

        try:
            task = await self._tasks.store.transition(
                task_id, TaskState.EXPIRED, "nobody approved it in time", within=expire
            )
        except (ActionExpired, IllegalTransition):
            # decided meanwhile, or the task ended another way: close the request alone
            async with self._sessions() as session, session.begin():
                await run(
                    session,
                    sa.update(Approval)
                    .where(col(Approval.task_id) == task_id, col(Approval.decision).is_(None))
                    .values(decision="CLOSED", decided_at=now),
                )
            return
        await self._audit.append(BOT_NAME, "approval_expired", {}, task_id, task_scope(task))
        await self._tasks.finish_here(
            task,
            None,
            pick(task.lang, "승인 시간이 지나 만료되었습니다", "the approval request expired"),
            "EXPIRED",
        )
