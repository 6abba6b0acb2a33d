"""GUARDiA-Bot: the room's third kind of member, answering and speaking first.

Owns: `Bot` (what is addressed to it: commands to the pipeline, `ping`, its own read-only
buttons, background work it spawns); `ProactiveBot` (ordinary chat heard after it is stored,
suggestions with their quiet rules and record) and `SuggestionButtons` (run, dismiss,
mute); `FeedbackBook` (thumbs on the bot's cards).
May import: hub.commands, hub.tasks, hub.rooms, hub.audit, hub.wire, hub.suggest,
hub.parser, cmdb, protocol, the hub's foundation modules.
"""
