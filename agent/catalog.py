"""The action catalog: every action code this agent can run, as a dispatch table."""

from __future__ import annotations

from typing import Any

from agent.actions import (
    check_disk_space,
    deploy_artifact,
    fetch_db_locks,
    health_check,
    restart_service,
    rollback_deploy,
    service_status,
    tail_log,
)
from agent.step import ActionSpec

CATALOG: dict[str, ActionSpec[Any]] = {
    spec.code: spec
    for spec in (
        restart_service.ACTION,
        health_check.ACTION,
        service_status.ACTION,
        check_disk_space.ACTION,
        fetch_db_locks.ACTION,
        tail_log.ACTION,
        deploy_artifact.ACTION,
        rollback_deploy.ACTION,
    )
}
