"""Operating the hub: metrics, structured logs, the operations overview, `guardia status`.

Two levels in one package. The foundation modules (`metrics`, `log_context`, `logs`,
`redaction`, `db_timing`) import nothing of the hub but its foundation, so that the wire, the
rooms, the tasks and the commands can call them with one line where things happen. The
readers above them (`overview`, `status`) read the database and the agent links for people.
May import: the foundation modules: the hub's foundation (settings, exceptions), cmdb,
protocol. The readers: also hub.wire and hub.tasks (agent links, task states).
"""
