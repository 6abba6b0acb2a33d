"""The demo users' tokens, the same on every run of `guardia demo` with one data directory.

A browser that remembered a token keeps working after the demo restarts. The tokens are
kept in `DATA_DIR/demo-tokens.json` (mode 0600, like an SSH key: they are the demo users'
passwords); the database holds only their hashes, as for every user. A kept token is used
again only while it still signs its user in (not revoked, rotated or expired, e.g. by
`guardia user rotate alice`); otherwise the user gets a new one, and the file is rewritten.

Why not a sign-in link with the token in it: a token in a URL stays in the browser's
history and in every copy of the link; a token pasted once and remembered does not.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb import accounts
from cmdb.exceptions import AlreadyExists

TOKENS_FILE = "demo-tokens.json"


def _read(path: Path) -> dict[str, str]:
    """The kept tokens; nothing when the file is missing or not what this module wrote."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict):
        return {}
    return {str(k): v for k, v in kept.items() if isinstance(v, str)}


def _write(path: Path, tokens: Mapping[str, str]) -> None:
    """Replace the file in one rename; it is created 0600, never readable by others."""
    temporary = path.with_name(f".{path.name}.new")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(tokens), out, indent=2)
        out.write("\n")
    os.replace(temporary, path)


async def _still_signs_in(session: AsyncSession, token: str | None, name: str) -> bool:
    if token is None:
        return False
    identity = await accounts.identify(session, token)
    return identity is not None and identity.kind == "user" and identity.name == name


async def user_tokens(
    sessions: async_sessionmaker[AsyncSession],
    data_dir: Path,
    users: Mapping[str, Sequence[str]],
) -> dict[str, str]:
    """A working token for each demo user: the kept one, else a new one (then kept)."""
    path = data_dir / TOKENS_FILE
    kept = _read(path)
    tokens: dict[str, str] = {}
    for name, roles in users.items():
        async with sessions() as session:
            if await _still_signs_in(session, kept.get(name), name):
                tokens[name] = kept[name]
                continue
            try:
                tokens[name] = await accounts.add_user(session, name, list(roles))
            except (AlreadyExists, IntegrityError):
                await session.rollback()
                tokens[name] = await accounts.rotate_token(session, "user", name)
    if tokens != kept:
        _write(path, tokens)
    return tokens
