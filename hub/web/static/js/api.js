// The hub's REST side the app uses: rooms, and a room's stored history.

export const HISTORY_PAGE = 100;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function getJson(path, token) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch (error) {
    throw new ApiError(0, "NETWORK", String(error.message ?? error));
  }
  if (!response.ok) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      // not JSON: keep the status alone
    }
    throw new ApiError(response.status, body.code ?? "HTTP", body.message ?? response.statusText);
  }
  return response.json();
}

/** The rooms this user may join: [{id, name, scope, last_seq}]. */
export function fetchRooms(token) {
  return getJson("/api/rooms", token);
}

/** Stored frames of a room with after_seq < seq <= after_seq + limit, oldest first. */
export function fetchMessages(token, roomId, afterSeq, limit = HISTORY_PAGE) {
  const query = new URLSearchParams({ after_seq: String(Math.max(0, afterSeq)), limit: String(limit) });
  return getJson(`/api/rooms/${encodeURIComponent(roomId)}/messages?${query}`, token);
}

/** The newest page of a room's history, ending at `lastSeq`. */
export function fetchLatest(token, roomId, lastSeq) {
  return fetchMessages(token, roomId, Math.max(0, lastSeq - HISTORY_PAGE), HISTORY_PAGE);
}

/** The page just before `lowestSeq`. */
export function fetchEarlier(token, roomId, lowestSeq) {
  const after = Math.max(0, lowestSeq - 1 - HISTORY_PAGE);
  return fetchMessages(token, roomId, after, lowestSeq - 1 - after);
}

/** The operations view's data, scoped by the hub to this reader (admins and approvers). */
export function fetchOverview(token) {
  return getJson("/api/ops/overview", token);
}
