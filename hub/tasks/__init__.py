"""Tasks: the work sent to agents, from creation to result.

Owns: the task state table (`states`), `TaskService` (store, sign, dispatch, redeliver, and
what agents report), `StepPlanner` (a plan's steps per agent, with parameters from the CMDB
and the hub's records), artifact fetch tokens, and the `Sweeper` that runs periodic checks.
May import: hub.rooms (BotVoice), hub.audit, hub.wire (AgentRouter), hub.parser (the Plan
type), cmdb, protocol, the hub's foundation modules. Never hub.commands or anything above.
"""
