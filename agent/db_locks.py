"""Lock-wait queries per database kind, and the parsing of their tab-separated output.

Each query answers the same columns (COLUMNS), one row per session waiting on a lock held by
another. The query goes to the configured client on its standard input: no shell quoting,
and nothing from the hub is in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

COLUMNS = (
    "blocked_pid",
    "blocked_user",
    "blocking_pid",
    "blocking_user",
    "database",
    "wait_seconds",
    "wait_event",
    "blocked_query",
    "blocking_query",
)
MAX_ROWS = 100

POSTGRESQL = r"""\set QUIET 1
\set ON_ERROR_STOP 1
\pset pager off
\pset format unaligned
\pset fieldsep '\t'
\pset footer off
\pset null ''
SELECT blocked.pid AS blocked_pid,
       COALESCE(blocked.usename, '') AS blocked_user,
       blocking.pid AS blocking_pid,
       COALESCE(blocking.usename, '') AS blocking_user,
       COALESCE(blocked.datname, '') AS database,
       COALESCE(EXTRACT(EPOCH FROM now() - blocked.query_start)::bigint, 0) AS wait_seconds,
       COALESCE(blocked.wait_event_type || ':' || blocked.wait_event, '') AS wait_event,
       left(regexp_replace(blocked.query, '[[:space:]]+', ' ', 'g'), 200) AS blocked_query,
       left(regexp_replace(blocking.query, '[[:space:]]+', ' ', 'g'), 200) AS blocking_query
FROM pg_stat_activity AS blocked
CROSS JOIN LATERAL unnest(pg_blocking_pids(blocked.pid)) AS b(pid)
JOIN pg_stat_activity AS blocking ON blocking.pid = b.pid
ORDER BY wait_seconds DESC, blocked.pid
LIMIT 100;
"""

_INNODB_COLUMNS = """SELECT r.trx_mysql_thread_id AS blocked_pid,
       COALESCE(rp.user, '') AS blocked_user,
       b.trx_mysql_thread_id AS blocking_pid,
       COALESCE(bp.user, '') AS blocking_user,
       COALESCE(rp.db, '') AS `database`,
       TIMESTAMPDIFF(SECOND, r.trx_wait_started, NOW()) AS wait_seconds,
       'innodb row lock' AS wait_event,
       LEFT(REPLACE(REPLACE(COALESCE(r.trx_query, ''), CHAR(10), ' '), CHAR(9), ' '), 200)
           AS blocked_query,
       LEFT(REPLACE(REPLACE(COALESCE(b.trx_query, ''), CHAR(10), ' '), CHAR(9), ' '), 200)
           AS blocking_query"""
_INNODB_TAIL = """LEFT JOIN information_schema.processlist rp ON rp.id = r.trx_mysql_thread_id
LEFT JOIN information_schema.processlist bp ON bp.id = b.trx_mysql_thread_id
ORDER BY wait_seconds DESC, blocked_pid
LIMIT 100;
"""
#: MariaDB, and MySQL 5.7
MARIADB = f"""{_INNODB_COLUMNS}
FROM information_schema.innodb_lock_waits w
JOIN information_schema.innodb_trx r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.innodb_trx b ON b.trx_id = w.blocking_trx_id
{_INNODB_TAIL}"""
#: MySQL 8.0 and later (innodb_lock_waits moved to performance_schema)
MYSQL = f"""{_INNODB_COLUMNS}
FROM performance_schema.data_lock_waits w
JOIN information_schema.innodb_trx r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID
JOIN information_schema.innodb_trx b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID
{_INNODB_TAIL}"""

_ORACLE_TEXT = "SUBSTR(TRANSLATE({}, CHR(9) || CHR(10) || CHR(13), '   '), 1, 200)"
ORACLE = f"""SET PAGESIZE 0 FEEDBACK OFF HEADING OFF VERIFY OFF ECHO OFF TAB OFF
SET TRIMOUT ON TRIMSPOOL ON LINESIZE 32767
WHENEVER SQLERROR EXIT SQL.SQLCODE
SELECT line FROM (
  SELECT s.sid || CHR(9) || s.username || CHR(9) || s.blocking_session || CHR(9)
         || b.username || CHR(9) || s.service_name || CHR(9) || s.seconds_in_wait || CHR(9)
         || s.event || CHR(9) || {_ORACLE_TEXT.format("q.sql_text")} || CHR(9)
         || {_ORACLE_TEXT.format("bq.sql_text")} AS line
  FROM v$session s
  LEFT JOIN v$session b ON b.sid = s.blocking_session
  LEFT JOIN v$sqlarea q ON q.sql_id = s.sql_id
  LEFT JOIN v$sqlarea bq ON bq.sql_id = NVL(b.sql_id, b.prev_sql_id)
  WHERE s.blocking_session IS NOT NULL
  ORDER BY s.seconds_in_wait DESC
) WHERE ROWNUM <= 100;
EXIT
"""


@dataclass(frozen=True)
class DbDialect:
    script: str
    default_client: str
    #: whether the client prints a header line before the rows
    has_header: bool
    #: how the client writes NULL
    null: str = ""


DIALECTS: dict[str, DbDialect] = {
    "postgresql": DbDialect(POSTGRESQL, "psql -X", has_header=True),
    "mysql": DbDialect(MYSQL, "mysql", has_header=True, null="NULL"),
    "mariadb": DbDialect(MARIADB, "mysql", has_header=True, null="NULL"),
    "oracle": DbDialect(ORACLE, "sqlplus -S -L / as sysdba", has_header=False),
}


def client_command(kind: str, client: str | None) -> str:
    return client or DIALECTS[kind].default_client


@dataclass(frozen=True)
class LockWait:
    blocked_pid: str
    blocked_user: str
    blocking_pid: str
    blocking_user: str
    database: str
    wait_seconds: int
    wait_event: str
    blocked_query: str
    blocking_query: str

    def row(self) -> str:
        return "\t".join(str(getattr(self, column)) for column in COLUMNS)


def parse_lock_rows(text: str, dialect: DbDialect) -> list[LockWait]:
    """Rows of the client's tab-separated output; lines of another shape are skipped."""
    lines = [line for line in text.splitlines() if line.count("\t") == len(COLUMNS) - 1]
    if dialect.has_header and lines and lines[0].split("\t")[0] == COLUMNS[0]:
        lines = lines[1:]
    rows = []
    for line in lines[:MAX_ROWS]:
        fields = ["" if f == dialect.null else f.strip() for f in line.split("\t")]
        values = dict(zip(COLUMNS, fields, strict=True))
        wait = values.pop("wait_seconds")
        rows.append(LockWait(wait_seconds=int(wait) if wait.isdigit() else 0, **values))
    return rows


def lock_summary(rows: list[LockWait]) -> str:
    if not rows:
        return "no session is waiting on a lock"
    longest = max(rows, key=lambda r: r.wait_seconds)
    blocked = {r.blocked_pid for r in rows}
    roots = sorted({r.blocking_pid for r in rows} - blocked)
    text = (
        f"{len(rows)} session(s) waiting on a lock; longest {longest.wait_seconds} s: "
        f"{_who(longest.blocked_pid, longest.blocked_user)} blocked by "
        f"{_who(longest.blocking_pid, longest.blocking_user)}"
    )
    if roots:
        text += f"; blocking at the root: {', '.join(roots[:10])}"
    return text


def lock_data(kind: str, rows: list[LockWait]) -> dict[str, Any]:
    """The result's data: every field a string but wait_seconds (an int)."""
    return {"kind": kind, "waits": [asdict(row) for row in rows]}


def lock_table(rows: list[LockWait]) -> str:
    return "\n".join(["\t".join(COLUMNS), *(row.row() for row in rows)])


def _who(pid: str, user: str) -> str:
    return f"pid {pid} ({user})" if user else f"pid {pid}"
