"""From a plan to the steps agents run: one task per agent, a step per node and action.

Parameters come from the CMDB (the node's service) and from the hub's own records (the
uploaded artifact, the file a rollback restores), never from the sentence itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
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
from protocol import ArtifactInfo, TaskStep

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


@dataclass(frozen=True)
class StepPlan:
    """One task per agent (its id and its steps), and the exact files a deploy installs."""

    by_agent: dict[str, tuple[str, list[TaskStep]]]
    artifacts: list[ArtifactInfo]


class StepPlanner:
    """Turns an understood plan into the steps each agent runs."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], signing_key: Ed25519PrivateKey
    ) -> None:
        self._sessions = sessions
        self._signing_key = signing_key

    async def plan(self, plan: Plan, index: CmdbIndex, lang: str) -> StepPlan:
        artifacts = await _artifacts(self._sessions, plan, lang)
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
                        token = fetch_token(self._signing_key, task_id, art.id)
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
                                    "fetch_token": token,
                                },
                            )
                        )
                    continue
                if action == "ROLLBACK_DEPLOY":
                    params["filename"] = await _last_deployed(self._sessions, asset, lang)
                by_agent[node.agent].append(TaskStep(action=action, node=asset, params=params))
        return StepPlan(
            {agent_id: (ids[agent_id], steps) for agent_id, steps in by_agent.items()},
            [
                ArtifactInfo(
                    artifact_id=a.id,
                    filename=a.filename,
                    sha256=a.sha256,
                    size=a.size,
                    uploaded_by=a.uploaded_by,
                )
                for a in artifacts
            ],
        )


async def _artifacts(
    sessions: async_sessionmaker[AsyncSession], plan: Plan, lang: str
) -> list[Artifact]:
    """The newest upload of each named file for the plan's system, and no one else's."""
    found = []
    for name in plan.deploy_artifacts:
        async with sessions() as session:
            artifact = (
                await session.exec(
                    select(Artifact)
                    .where(Artifact.filename == name, Artifact.system_code == plan.system_name)
                    .order_by(col(Artifact.created_at).desc())
                    .limit(1)
                )
            ).first()
        if artifact is None:
            raise NotUnderstood(
                pick(
                    lang,
                    f"{plan.system_name}용으로 업로드된 {name} 파일이 없습니다. 이 시스템의 방에서 "
                    "먼저 업로드해 주세요.",
                    f"{name} has not been uploaded for {plan.system_name}. Upload it in this "
                    "system's room first.",
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
