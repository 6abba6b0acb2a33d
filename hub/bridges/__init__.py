"""Bridges: Slack, Mattermost and plain messenger webhooks talking to the same rooms.

Owns: links (a channel to a room, a messenger account to a user: the only source of a
bridged identity), inbound handling (what is said in a channel is stored in the room; what
is addressed to the bot goes through the same Bot, pipeline, permissions and audit as the
web app), and lanes: per channel, the room's stored frames turned into outbound messages in
a durable outbox that is sent in order, updated in place, and waited out when the other side
is down or rate-limits.
May import: hub.bot, hub.commands, hub.rooms, hub.audit, hub.settings, hub.i18n,
hub.exceptions, cmdb, protocol.
"""
