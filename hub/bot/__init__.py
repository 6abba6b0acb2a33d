"""GUARDiA-Bot: the room's third kind of member, answering and (soon) speaking first.

Owns: `Bot` (what is addressed to it: commands to the pipeline, `ping`, its own read-only
buttons, background work it spawns).
May import: hub.commands, hub.tasks, hub.rooms, hub.audit, hub.wire, hub.parser, cmdb,
protocol, the hub's foundation modules.
"""
