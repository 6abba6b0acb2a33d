"""The command domain: from a sentence addressed to the bot to tasks, with its decisions.

Owns: `CommandPipeline` (parse, ask back, authorize, plan, dispatch, cancel),
`ApprovalService` (prod changes wait for another approver), `ButtonStore` (what an opaque
action_id means), `ButtonRouter` (a press to the handler its owner registered),
authorization rules, plan texts, and the CMDB snapshot the parser reads.
May import: hub.tasks, hub.rooms, hub.audit, hub.wire, hub.parser, cmdb, protocol, the hub's
foundation modules. Never hub.bot, hub.web or the composition root.
"""
