"""The hub's outer layer: what is served over HTTP and WebSocket.

Owns: the two socket endpoints (`/ws/chat` in chat_socket, `/ws/agent` in agent_socket),
the REST API, artifact upload and download, the liveness and readiness probes, security
headers, the guard against slow and greedy clients (connection_guard: uvicorn's protocol
classes with a header deadline and a per-address cap at accept; address_limit: the same cap
per request, by the forwarded address), and the web app's static files.
Endpoints are thin: they take the `HubState` from the app, decode, dispatch through a table,
and answer.
May import: everything in hub below it, and `hub.state` (for the HubState type).
"""
