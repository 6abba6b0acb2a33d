"""The card's buttons, run by the presser's rights, and the tasks that resolve incidents.

A diagnostic (FETCH_DB_LOCKS, SERVICE_STATUS, TAIL_LOG) is checked like a typed read-only
command (`require_command` in the node's scope: a viewer is refused) and runs at once, with
parameters from the CMDB. RESTART_SERVICE is a change: it goes through the command
pipeline as a RESTART plan, so a prod node waits for another approver. Acknowledge needs
the same rights. The presser's identity is used throughout, never the integration's.
A RESTART, or a passing SERVICE_STATUS or HEALTH_CHECK, launched from the card resolves it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.accounts import Identity
from cmdb.grants import parse_scope
from cmdb.inventory import nodes_by_code
from cmdb.tables import ButtonRecord, Incident, Node, Room, Task
from hub.audit.log import AuditLog
from hub.commands.authorization import require_command
from hub.commands.button_router import ButtonRouter
from hub.commands.cmdb_snapshot import CmdbSnapshot
from hub.commands.pipeline import CommandPipeline
from hub.exceptions import ActionExpired, NotUnderstood, UnknownAction
from hub.i18n import pick
from hub.intake.cards import ACK, CardPoster, record_of
from hub.intake.folding import entry
from hub.intake.memory import IncidentMemory, ResolvedBy, resolution_words
from hub.intake.states import IncidentState
from hub.intake.store import IncidentStore
from hub.parser import ACTION_SEQUENCES, Plan, approval_required
from hub.tasks.service import TaskService
from hub.tasks.states import TaskState
from hub.tasks.steps import TAIL_LINES
from protocol import TaskStep

log = logging.getLogger("guardia.hub.incidents")

DIAGNOSTICS = ("FETCH_DB_LOCKS", "SERVICE_STATUS", "TAIL_LOG")
#: actions whose success means the trouble is gone
FIXING = frozenset({"RESTART_SERVICE", "HEALTH_CHECK", "SERVICE_STATUS"})


class IncidentActions:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: IncidentStore,
        cards: CardPoster,
        tasks: TaskService,
        pipeline: CommandPipeline,
        cmdb: CmdbSnapshot,
        audit: AuditLog,
        memory: IncidentMemory,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._cards = cards
        self._tasks = tasks
        self._pipeline = pipeline
        self._cmdb = cmdb
        self._audit = audit
        self.memory = memory

    def register_buttons(self, router: ButtonRouter) -> None:
        router.register(ACK, self.on_acknowledge)
        for code in DIAGNOSTICS:
            router.register(code, self.on_diagnostic)
        router.register("RESTART_SERVICE", self.on_restart)

    async def node_facts(self, asset_code: str) -> tuple[bool, str] | None:
        """For the card's buttons: whether the node has a service, and its env."""
        async with self._sessions() as session:
            node = await session.get(Node, asset_code)
        return None if node is None else (bool(node.services), node.env)

    # -- presses ---------------------------------------------------------------------------

    async def _open_incident(self, record: ButtonRecord, lang: str) -> Incident:
        incident = await self._store.get(str(record.params.get("incident_id")))
        if incident is None or incident.room_id != record.room_id:
            raise UnknownAction(pick(lang, "없는 장애입니다.", "No such incident."))
        if incident.state == IncidentState.RESOLVED:
            raise ActionExpired(
                pick(lang, "이미 해결된 장애입니다.", "This incident is already resolved.")
            )
        return incident

    async def _node(self, incident: Incident, lang: str) -> tuple[Node, str]:
        async with self._sessions() as session:
            found = await nodes_by_code(session, [incident.node] if incident.node else [])
        if not found:
            raise UnknownAction(
                pick(lang, "CMDB에 이 장애의 서버가 없습니다.", "This incident's node is gone.")
            )
        return found[0]

    async def _busy(self, incident: Incident, action: str, lang: str) -> None:
        running = await self._store.unfinished(incident.id, action)
        if running:
            raise ActionExpired(
                pick(
                    lang,
                    f"{action}이(가) 이미 진행 중입니다 ({running[0]}).",
                    f"{action} is already under way ({running[0]}).",
                )
            )

    async def on_acknowledge(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        incident = await self._open_incident(record, lang)
        inst, system = incident.institution, incident.system
        if incident.system is None:  # an incident on no node: the room's scope decides
            async with self._sessions() as session:
                room = await session.get(Room, record.room_id)
            inst, system = parse_scope(room.scope if room else None)
        require_command(identity, inst, system, lang)
        moved = await self._store.move(
            incident.id, IncidentState.ACKNOWLEDGED, entry("acknowledged", by=identity.name)
        )
        if moved is None:
            raise ActionExpired(
                pick(lang, "이미 확인된 장애입니다.", "This incident is already acknowledged.")
            )
        await self._audit.append(identity.name, "incident_ack", {"incident": incident.id})
        self._cards.touch(incident.id)

    async def on_diagnostic(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        incident = await self._open_incident(record, lang)
        node, inst = await self._node(incident, lang)
        require_command(identity, inst, node.system_code, lang)
        action = record.command_code
        await self._busy(incident, action, lang)
        if not node.services:
            raise NotUnderstood(
                pick(
                    lang,
                    f"{node.asset_code}에 등록된 서비스가 없어 {action}을(를) 할 수 없습니다.",
                    f"{node.asset_code} has no service in the CMDB, so {action} cannot run.",
                )
            )
        params: dict[str, Any] = {"service": node.services[0]}
        if action == "TAIL_LOG":
            params["lines"] = TAIL_LINES
        task = await self._tasks.store.create(
            room_id=record.room_id,
            requested_by=identity.name,
            agent_id=node.agent_id,
            steps=[TaskStep(action=action, node=node.asset_code, params=params)],
            plan={
                "institution": inst,
                "system_name": node.system_code,
                "target_nodes": [node.asset_code],
                "action_sequence": [action],
                "incident_id": incident.id,
            },
            lang=lang,
            cause=f"button {action} on incident {incident.id} pressed by {identity.name}",
        )
        await self._store.link_task(incident.id, task.id, action, identity.name)
        await self._audit.append(
            identity.name,
            "dispatch",
            {"agent": node.agent_id, "incident": incident.id, "button": action},
            task.id,
        )
        await self._tasks.dispatch(task)

    async def on_restart(self, identity: Identity, record: ButtonRecord, lang: str) -> None:
        incident = await self._open_incident(record, lang)
        node, inst = await self._node(incident, lang)
        await self._busy(incident, "RESTART_SERVICE", lang)
        plan = Plan(
            intent_type="RESTART",
            institution=inst,
            system_name=node.system_code,
            infrastructure_layer=node.layer,
            target_nodes=(node.asset_code,),
            action_sequence=ACTION_SEQUENCES["RESTART"],
            deploy_artifacts=(),
            requires_approval=approval_required("RESTART", [node.env]),
            needs_clarification=False,
            question=None,
        )

        async def linked(task: Task) -> None:
            # linked before it is dispatched: its result may come back at once
            await self._store.link_task(incident.id, task.id, "RESTART_SERVICE", identity.name)

        await self._pipeline.proceed_in_room(
            identity, record.room_id, plan, lang, on_created=linked
        )

    # -- tasks ending ----------------------------------------------------------------------

    async def task_ended(self, task: Task) -> None:
        """A task launched from a card ended: note it, and resolve the incident if it fixed it."""
        link = await self._store.link_of(task.id)
        if link is None:
            return
        fixed = (
            link.action in FIXING
            and task.status == TaskState.SUCCEEDED
            and bool(task.results)
            and all(r.get("ok") for r in task.results)
        )
        if not fixed:
            await self._store.note(
                link.incident_id,
                entry("task_ended", detail=f"{link.action} {task.status}", task_id=task.id),
            )
            return
        resolved = await self._store.move(
            link.incident_id,
            IncidentState.RESOLVED,
            entry(
                "resolved",
                by=task.requested_by,
                detail=f"{link.action} {task.id} succeeded",
                task_id=task.id,
                action=link.action,
            ),
        )
        if resolved is None:  # resolved meanwhile, by its alert or another task
            self._cards.touch(link.incident_id)
            return
        await self.resolved(resolved, "task", task.id, link.action)

    async def resolved(
        self,
        incident: Incident,
        by: ResolvedBy,
        task_id: str | None = None,
        action: str | None = None,
    ) -> None:
        """Hand a resolved incident to the memory and bring its card up to date."""
        self._cards.touch(incident.id)
        words = resolution_words(incident.lang, by, action, incident.node)
        record = record_of(
            incident,
            resolution=words,
            fixing_task_id=task_id,
            fixing_action=action,
            resolved_by=by,
        )
        try:
            await self.memory.remember(record)
        except Exception:  # a memory that fails must not fail the resolution
            log.exception("the incident memory could not remember %s", incident.id)
