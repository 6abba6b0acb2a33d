"""Artifacts: uploaded by operators for deploys, fetched by agents with task-scoped tokens.

`POST /api/artifacts?filename=NAME&system=SYS` (or `&room_id=ROOM`, a room whose scope names
one system) streams the body to disk under a size limit, hashing as it goes; nothing is
recorded unless the whole body arrived. An artifact belongs to its system: only an operator
(approver, admin) of that system may upload it, and only that system's deploys pick it.
`GET /api/artifacts/{id}` serves the file to an agent whose token was made for a live task
that deploys it.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import uuid
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response

from cmdb.grants import parse_scope
from cmdb.tables import Artifact, System, Task
from hub.commands.authorization import roles_in_scope
from hub.state import HubState
from hub.tasks.artifact_tokens import check_fetch_token
from hub.tasks.states import TaskState
from hub.web.http import OrjsonResponse, current_user, hub_state, problem

log = logging.getLogger("guardia.hub.artifacts")

FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$")
_LIVE = {TaskState.DISPATCHED, TaskState.RUNNING, TaskState.APPROVED, TaskState.QUEUED}
_CHUNK_LIMIT_NOTE = "the upload is larger than the limit of {limit} bytes"


def check_filename(name: str | None) -> str:
    """A bare file name: no directories, no '..', no hidden files, printable ASCII."""
    if not name:
        raise ValueError("filename is required (?filename=NAME)")
    if "/" in name or "\\" in name or ".." in name or not FILENAME.match(name):
        raise ValueError(
            f"bad filename {name!r}: use letters, digits, '.', '_', '-', '+', no paths or '..'"
        )
    return name


async def upload(request: Request) -> Response:
    identity = await current_user(request)
    if identity is None:
        return problem(401, "UNAUTHENTICATED", "a user bearer token is required")
    try:
        filename = check_filename(request.query_params.get("filename"))
    except ValueError as exc:
        return problem(400, "BAD_FRAME", str(exc))
    state = hub_state(request)
    system = await _upload_system(state, request)
    if isinstance(system, Response):
        return system
    roles = roles_in_scope(identity, system.institution_code, system.code)
    if not roles & {"operator", "approver", "admin"}:
        return problem(
            403, "FORBIDDEN", "uploading an artifact needs an operator role for its system"
        )
    limit = state.settings.max_artifact_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return problem(413, "TOO_LARGE", _CHUNK_LIMIT_NOTE.format(limit=limit))
    store = state.settings.data_dir / "artifacts"
    store.mkdir(parents=True, exist_ok=True)
    artifact_id = uuid.uuid4().hex
    partial = store / f".{artifact_id}.part"
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise OverflowError
                digest.update(chunk)
                out.write(chunk)
    except OverflowError:
        partial.unlink(missing_ok=True)
        return problem(413, "TOO_LARGE", _CHUNK_LIMIT_NOTE.format(limit=limit))
    except ClientDisconnect:
        partial.unlink(missing_ok=True)
        return problem(400, "BAD_FRAME", "the upload was cut off")
    except OSError as exc:  # ENOSPC, EDQUOT, EIO: the hub's disk, not the client's fault
        partial.unlink(missing_ok=True)
        log.error("artifact upload %s not stored: %s", filename, exc)
        return _not_stored(exc)
    final = store / artifact_id
    os.replace(partial, final)
    artifact = Artifact(
        id=artifact_id,
        filename=filename,
        sha256=digest.hexdigest(),
        size=size,
        path=str(final),
        uploaded_by=identity.name,
        system_code=system.code,
    )
    try:
        async with state.sessions() as session:
            session.add(artifact)
            await session.commit()
    except (OSError, SQLAlchemyError) as exc:  # the file without its record is no artifact
        final.unlink(missing_ok=True)
        log.error("artifact upload %s not recorded: %s", filename, exc)
        return _not_stored(exc)
    return OrjsonResponse(
        {
            "artifact_id": artifact_id,
            "filename": filename,
            "sha256": artifact.sha256,
            "size": size,
            "system": system.code,
            "uploaded_by": identity.name,
        },
        status_code=201,
    )


async def _upload_system(state: HubState, request: Request) -> System | Response:
    """The system an upload is for: named, or the one system of the room it comes from."""
    code = request.query_params.get("system")
    if not code and (room_id := request.query_params.get("room_id")):
        room = await state.rooms.get(room_id)
        _, code = parse_scope(room.scope if room is not None else None)
        if not code:
            return problem(
                400,
                "BAD_FRAME",
                f"room {room_id} is not the room of one system: name it with ?system=CODE",
            )
    if not code:
        return problem(400, "BAD_FRAME", "system is required (?system=CODE or ?room_id=ROOM)")
    async with state.sessions() as session:
        system = await session.get(System, code)
    if system is None:
        return problem(400, "BAD_FRAME", f"no system {code!r} in the CMDB")
    return system


def _not_stored(exc: Exception) -> Response:
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    full = full or "full" in str(exc)  # SQLite: "database or disk is full"
    if full:
        return problem(
            507, "INTERNAL", "the upload could not be stored: no space left on the hub's disk"
        )
    return problem(503, "INTERNAL", "the upload could not be stored; try again later")


async def download(request: Request) -> Response:
    """For agents: the artifact of a live task, with the token made for that task."""
    artifact_id = request.path_params["artifact_id"]
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    state = hub_state(request)
    task_id = (
        check_fetch_token(state.signing_key, token.strip(), artifact_id)
        if scheme.lower() == "bearer"
        else None
    )
    if task_id is None:
        return problem(401, "UNAUTHENTICATED", "a task-scoped artifact token is required")
    async with state.sessions() as session:
        task = await session.get(Task, task_id)
        artifact = await session.get(Artifact, artifact_id)
    if task is None or task.status not in _LIVE or artifact is None:
        return problem(403, "FORBIDDEN", "this token's task is not running")
    if not any(s.get("params", {}).get("artifact_id") == artifact_id for s in task.steps):
        return problem(403, "FORBIDDEN", "this task does not deploy that artifact")
    path = Path(artifact.path)
    if not path.is_file():  # noqa: ASYNC240 (one stat on local disk)
        return problem(404, "NOT_FOUND", "the artifact file is missing on the hub")
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=artifact.filename,
        headers={"X-Content-SHA256": artifact.sha256},
    )
