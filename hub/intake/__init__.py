"""Incidents: what monitoring, applications and agents' log watches report, made cards.

Owns: integrations as principals on the intake endpoints (`IntegrationAuth`: bearer tokens,
Sentry's and Grafana's HMAC signatures, checked on the raw body before anything is parsed),
the senders' payloads read into `Signal`s (alertmanager, sentry, application, agent_events),
routing to a CMDB node and the room that covers it, the incident store (race-free folding
of repeats in the database, batched when requests arrive together; the incident state
table), the ALERT cards posted at a bounded rate, the card's buttons (diagnostics and fixes
by the presser's rights, Acknowledge), and the `IncidentMemory` a resolved incident is
handed to.
May import: hub.bot, hub.commands, hub.tasks, hub.rooms, hub.audit, hub.wire, hub.parser,
cmdb, protocol, the hub's foundation modules. Never hub.web or the composition root.
"""
