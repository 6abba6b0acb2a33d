"""The wire: WebSocket peers as the hub holds them, below anything that knows what frames mean.

Owns: `Connection` (a peer's socket with its bounded send queue and writer task),
`authenticate`/`open_connection` (tokens at the handshake or in a first AUTH frame),
`TokenBucket` (rate limits), `AgentLinks` (one live link per agent id) and `AgentRouter`
(a frame to an agent on this hub or, through the backplane, on another).
May import: cmdb (identities), protocol, the hub's foundation modules (settings, exceptions,
i18n). Nothing above it: rooms, tasks, commands and the endpoints use the wire, not the reverse.
"""
