"""Fixtures of the attack suite: the lab of tests/test_hub_pipeline.py (a real hub and agent,
users of every role) with more rooms, so attacks across rooms can be tried.

One lab serves a whole module (starting a hub and an agent per test would make the suite
slow): test modules run in the module's event loop (security_lab.MODULE_LOOP) and count what they
cause as differences, never absolute numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from harness import Database
from test_hub_pipeline import Lab, running_lab


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seclab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    """Rooms: `lab` and `other` (no scope), `zoo` (scope ZOO, zed's only)."""
    workdir = tmp_path_factory.mktemp("seclab")
    db = Database(f"sqlite+aiosqlite:///{workdir / 'guardia.db'}")
    async with running_lab(db, workdir) as lab:
        await lab.db.add_room("other")
        yield lab
