"""From a plan to the steps agents run: one task per agent, a step per node and action.

Parameters come from the CMDB (the node's service) and from the hub's own records (the
uploaded artifact, the file a rollback restores), never from the sentence itself.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.index import CmdbIndex
from cmdb.tables import Artifact, Task
from hub.exceptions import NotUnderstood
from hub.i18n import pick
from hub.parser import Plan
from hub.tasks.artifact_tokens import fetch_token
from hub.tasks.states import TaskState
from hub.tasks.store import new_task_id
from protocol import TaskStep

SERVICE_ACTIONS = frozenset(
    {
        "RESTART_SERVICE",
        "HEALTH_CHECK",
        "SERVICE_STATUS",
        "TAIL_LOG",
        "DEPLOY_ARTIFACT",
        "ROLLBACK_DEPLOY",
        "FETCH_DB_LOCKS",
    }
)
TAIL_LINES = 100


class StepPlanner:
    """Turns an understood plan into the steps each agent runs."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], signing_key: Ed25519PrivateKey
    ) -> None:
        self._sessions = sessions
        self._signing_key = signing_key

    async def steps_by_agent(
        self, plan: Plan, index: CmdbIndex, lang: str
    ) -> dict[str, tuple[str, list[TaskStep]]]:
        """One task per agent: its id, and a step per node and action."""
        return await _steps_by_agent(self._sessions, self._signing_key, plan, index, lang)


async def _steps_by_agent(
    sessions: async_sessionmaker[AsyncSession],
    signing_key: Ed25519PrivateKey,
    plan: Plan,
    index: CmdbIndex,
    lang: str,
) -> dict[str, tuple[str, list[TaskStep]]]:
    groups: dict[str, tuple[str, list[TaskStep]]] = {}
    artifacts = await _artifacts(sessions, plan, lang)
    by_agent: dict[str, list[TaskStep]] = defaultdict(list)
    ids: dict[str, str] = {}
    for asset in plan.target_nodes:
        node = index.node(asset)
        if node is None:  # grounding never lets this happen; refuse rather than guess
            raise NotUnderstood(f"unknown node {asset}")
        task_id = ids.setdefault(node.agent, new_task_id())
        for action in plan.action_sequence:
            params: dict[str, Any] = {}
            if action in SERVICE_ACTIONS:
                if not node.services:
                    raise NotUnderstood(
                        pick(
                            lang,
                            f"{asset}에 등록된 서비스가 없어 {action}을(를) 할 수 없습니다.",
                            f"{asset} has no service in the CMDB, so {action} cannot run.",
                        )
                    )
                params["service"] = node.services[0]
            if action == "TAIL_LOG":
                params["lines"] = TAIL_LINES
            if action == "DEPLOY_ARTIFACT":
                for art in artifacts:
                    by_agent[node.agent].append(
                        TaskStep(
                            action=action,
                            node=asset,
                            params={
                                **params,
                                "artifact_id": art.id,
                                "filename": art.filename,
                                "sha256": art.sha256,
                                "size": art.size,
                                "fetch_token": fetch_token(signing_key, task_id, art.id),
                            },
                        )
                    )
                continue
            if action == "ROLLBACK_DEPLOY":
                params["filename"] = await _last_deployed(sessions, asset, lang)
            by_agent[node.agent].append(TaskStep(action=action, node=asset, params=params))
    for agent_id, steps in by_agent.items():
        groups[agent_id] = (ids[agent_id], steps)
    return groups


async def _artifacts(
    sessions: async_sessionmaker[AsyncSession], plan: Plan, lang: str
) -> list[Artifact]:
    found = []
    for name in plan.deploy_artifacts:
        async with sessions() as session:
            artifact = (
                await session.exec(
                    select(Artifact)
                    .where(Artifact.filename == name)
                    .order_by(col(Artifact.created_at).desc())
                    .limit(1)
                )
            ).first()
        if artifact is None:
            raise NotUnderstood(
                pick(
                    lang,
                    f"{name} 파일이 업로드되지 않았습니다. 먼저 업로드해 주세요.",
                    f"{name} has not been uploaded. Upload it first.",
                )
            )
        found.append(artifact)
    return found


async def _last_deployed(sessions: async_sessionmaker[AsyncSession], asset: str, lang: str) -> str:
    """The file the newest successful deploy on `asset` put there: what rollback restores."""
    async with sessions() as session:
        tasks = await session.exec(
            select(Task)
            .where(Task.status == TaskState.SUCCEEDED)
            .order_by(col(Task.created_at).desc())
            .limit(200)
        )
        for task in tasks:
            for step in task.steps:
                if step.get("action") == "DEPLOY_ARTIFACT" and step.get("node") == asset:
                    return str(step["params"]["filename"])
    raise NotUnderstood(
        pick(
            lang,
            f"{asset}에 GUARDiA로 배포한 기록이 없어 롤백할 파일을 알 수 없습니다.",
            f"No deploy to {asset} through GUARDiA is on record, so there is nothing to "
            "roll back to.",
        )
    )
