"""The hub's outer layer: what is served over HTTP and WebSocket.

Owns: the two socket endpoints (`/ws/chat` in chat_socket, `/ws/agent` in agent_socket),
the REST API, artifact upload and download, security headers, and the web app's static files.
Endpoints are thin: they take the `HubState` from the app, decode, dispatch through a table,
and answer.
May import: everything in hub below it, and `hub.state` (for the HubState type).
"""
