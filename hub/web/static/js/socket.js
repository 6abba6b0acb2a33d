// The /ws/chat connection: first-frame AUTH, JOIN with after_seq, keepalive, and reconnect
// with jittered exponential backoff. Duplicates from replays are dropped by the store (by seq).

export const CLOSE_NOT_AUTHENTICATED = 4401;
export const CLOSE_WRONG_TOKEN_KIND = 4403;
const PING_EVERY_MS = 20_000;
const SILENT_LIMIT_MS = 50_000; // no frame at all for this long: the link is dead

/** Delay before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s, ±20 % jitter. */
export function reconnectDelay(attempt, random = Math.random) {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 15));
  return Math.min(30_000, Math.round(base * (0.8 + 0.4 * random())));
}

export function newMessageId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function chatUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/chat`;
}

/**
 * events: onHello(frame), onFrame(frame), onStatus(state, detail), onAuthFailed(code),
 * onJoinSent(roomId, messageId), afterSeq(roomId) -> int|null, roomIds() -> [roomId]
 */
export class ChatSocket {
  constructor(token, events) {
    this.token = token;
    this.events = events;
    this.ws = null;
    this.attempt = 0;
    this.stopped = false;
    this.ready = false; // authenticated (HELLO received)
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.retryAt = 0;
  }

  start() {
    this.stopped = false;
    this.open();
    // the browser knows when the network is back: no need to wait out the backoff
    this.onOnline = () => this.retryNow();
    window.addEventListener("online", this.onOnline);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener("online", this.onOnline);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
  }

  retryNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  open() {
    this.ready = false;
    this.events.onStatus("connecting");
    const ws = new WebSocket(chatUrl());
    this.ws = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ v: 1, msg_type: "AUTH", message_id: newMessageId(), token: this.token }));
    });
    ws.addEventListener("message", (event) => this.received(ws, event.data));
    ws.addEventListener("close", (event) => this.closed(ws, event));
  }

  received(ws, data) {
    if (ws !== this.ws) return;
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame === null || typeof frame !== "object") return;
    if (frame.msg_type === "HELLO") {
      this.ready = true;
      this.attempt = 0;
      this.startKeepalive(ws);
      this.events.onHello(frame);
      this.joinAll();
      this.events.onStatus("online");
      return;
    }
    if (frame.msg_type === "PONG" || frame.msg_type === "PING") {
      if (frame.msg_type === "PING") this.send({ msg_type: "PONG" });
      return;
    }
    this.events.onFrame(frame);
  }

  /** JOIN every room, resuming after the highest seq this browser has of it. */
  joinAll() {
    for (const roomId of this.events.roomIds()) this.join(roomId);
  }

  join(roomId) {
    const afterSeq = this.events.afterSeq(roomId);
    const frame = { msg_type: "JOIN", room_id: roomId };
    if (Number.isInteger(afterSeq)) frame.after_seq = afterSeq;
    const messageId = this.send(frame);
    if (messageId) this.events.onJoinSent?.(roomId, messageId);
    return messageId;
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    clearInterval(this.pingTimer);
    if (this.stopped) return;
    if (event.code === CLOSE_NOT_AUTHENTICATED || event.code === CLOSE_WRONG_TOKEN_KIND) {
      this.stopped = true;
      this.events.onAuthFailed(event.code);
      return;
    }
    const delay = reconnectDelay(this.attempt);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.events.onStatus("offline", { retryAt: this.retryAt });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  startKeepalive(ws) {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (ws !== this.ws) return;
      if (Date.now() - this.lastFrameAt > SILENT_LIMIT_MS) {
        ws.close(4000, "no frames: reconnecting");
        this.closed(ws, { code: 4000 });
        return;
      }
      this.send({ msg_type: "PING" });
    }, PING_EVERY_MS);
  }

  get isOpen() {
    return this.ready && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a frame; returns its message_id, or null when not connected. */
  send(frame) {
    if (!this.isOpen) return null;
    const full = { v: 1, message_id: newMessageId(), ...frame };
    this.ws.send(JSON.stringify(full));
    return full.message_id;
  }

  /** Tests: cut the connection as a network drop would (the app reconnects by itself). */
  drop() {
    if (!this.ws) return;
    const ws = this.ws;
    ws.close(4000, "dropped");
    this.closed(ws, { code: 4000 });
  }
}
