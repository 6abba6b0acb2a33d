"""FETCH_DB_LOCKS: sessions waiting on locks, from the service's database (its `kind`).

The query runs through the configured `client` on the node (default per kind: `psql -X`,
`mysql`, `sqlplus -S -L / as sysdba`), which brings its own credentials (.pgpass, my.cnf,
OS authentication); the agent holds no database password.
data: {"kind", "waits": [{"blocked_pid", "blocked_user", "blocking_pid", "blocking_user",
"database", "wait_seconds" (int), "wait_event", "blocked_query", "blocking_query"}]}.
"""

from __future__ import annotations

from agent.db_locks import (
    DIALECTS,
    client_command,
    lock_data,
    lock_summary,
    lock_table,
    parse_lock_rows,
)
from agent.step import ActionSpec, ServiceParams, StepContext, StepOutcome


async def fetch_db_locks(ctx: StepContext, params: ServiceParams) -> StepOutcome:
    service = ctx.service(params.service)
    assert service.kind is not None  # checked before the task ran (ActionSpec.needs)
    dialect = DIALECTS[service.kind]
    command = client_command(service.kind, service.client)
    result = await ctx.transport.run(command, stdin=dialect.script.encode())
    if not result.ok:
        return StepOutcome(
            False,
            f"{service.kind} client failed (exit {result.exit_code}): {result.last_error_line()}",
            result.exit_code,
            result.output,
            {"kind": service.kind, "waits": []},
        )
    rows = parse_lock_rows(result.stdout, dialect)
    return StepOutcome(
        True,
        lock_summary(rows),
        result.exit_code,
        lock_table(rows),
        lock_data(service.kind, rows),
    )


ACTION = ActionSpec(
    "FETCH_DB_LOCKS", ServiceParams, fetch_db_locks, needs=("kind",), output_limit=64 * 1024
)
