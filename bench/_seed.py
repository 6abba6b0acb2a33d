"""Seeds a hub's database with the `cmdb` package of the tree on PYTHONPATH (bench/_common.py).

    PYTHONPATH=TREE python bench/_seed.py seed < spec.json    # prints the tokens as JSON
    PYTHONPATH=TREE python bench/_seed.py statuses URL        # tasks by final state, JSON

A bench that measures another commit's hub (`roundtrip.py --against`) must create that
commit's schema with that commit's migrations: a database made by this tree's migrations
has a revision the older hub does not know, and it refuses to start. So the seeding runs in
a child process that imports the measured tree's `cmdb`, through calls that exist, with the
same arguments, since the first benches (aa372cc): `create_engine`, `upgrade`,
`session_factory`, `load_cmdb` + `import_document`, `add_room(session, id, name, scope)`,
`add_user(session, name, roles)`, `add_agent(session, id)`.

The spec: {"url", "cmdb" (YAML text), "rooms", "scope", "users": [[name, [roles]]],
"agents": [ids]}; the answer: {"users": {name: token}, "agents": {id: token}, "cmdb": the
tree's cmdb package path (so the bench can say which code seeded)}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

# bench/ is this script's directory; `seed` imports `cmdb` when it runs, from PYTHONPATH's tree
from _common import seed as seed_at


async def seed(spec: dict[str, Any]) -> dict[str, Any]:
    import cmdb
    from cmdb import accounts
    from cmdb.document import load_cmdb
    from cmdb.importer import import_document

    async def work(session: Any) -> dict[str, Any]:
        if spec.get("cmdb"):
            await import_document(session, load_cmdb(spec["cmdb"]))
        for room_id in spec.get("rooms", []):
            await accounts.add_room(session, room_id, None, spec.get("scope"))
        users = {
            name: await accounts.add_user(session, name, list(roles))
            for name, roles in spec.get("users", [])
        }
        agents = {a: await accounts.add_agent(session, a) for a in spec.get("agents", [])}
        return {"users": users, "agents": agents, "cmdb": str(cmdb.__path__[0])}

    result: dict[str, Any] = await seed_at(spec["url"], work)
    return result


async def statuses(url: str) -> dict[str, int]:
    """How many tasks ended (or stayed) in each state: a stuck one shows here."""
    from sqlmodel import func, select

    from cmdb.tables import Task

    async def work(session: Any) -> dict[str, int]:
        rows = await session.exec(select(Task.status, func.count()).group_by(Task.status))
        return {str(status): int(count) for status, count in rows}

    result: dict[str, int] = await seed_at(url, work)
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["seed"]:
        print(json.dumps(asyncio.run(seed(json.load(sys.stdin)))))
    elif argv[:1] == ["statuses"] and len(argv) == 2:
        print(json.dumps(asyncio.run(statuses(argv[1]))))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
