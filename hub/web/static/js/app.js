// The signed-in app: rooms (history from REST, live frames over /ws/chat), buttons,
// sending, uploads. Modules: store (state), socket (connection), timeline/render/cards (DOM).

import { HISTORY_PAGE, fetchEarlier, fetchLatest, fetchRooms } from "./api.js";
import { errorSentence } from "./cards.js";
import { Composer } from "./composer.js";
import { Drawer } from "./drawer.js";
import { applyStatic, onLangChange, t } from "./i18n.js";
import { OpsView } from "./ops_view.js";
import { Sidebar } from "./sidebar.js";
import { ChatSocket, newMessageId } from "./socket.js";
import { Store } from "./store.js";
import { Timeline } from "./timeline.js";
import { UploadPanel } from "./upload.js";

const ROOM_KEY = "guardia.room";
const UNREAD_TYPES = new Set(["CHAT", "COMMAND_PLAN", "APPROVAL_REQUEST", "TASK_FINISHED", "ERROR"]);

export class App {
  /** onAuthFailed: the hub closed the socket because the token is no longer good. */
  constructor(token, { onAuthFailed }) {
    this.token = token;
    this.onAuthFailed = onAuthFailed;
    this.store = new Store();
    this.timelines = new Map();
    this.active = null;
    this.epoch = 0; // one per authenticated connection
    this.stats = { frames: 0, duplicates: 0, hellos: 0 };
    this.ctx = {
      store: this.store,
      press: (frame, button) => this.press(frame, button),
      feedback: (frame, helpful) => this.feedback(frame, helpful),
      remindAt: (when) => this.remindAt(when),
    };
    this.reminders = new Map(); // ms -> timer: redraw when a button or request expires
    this.drawer = new Drawer();
    this.sidebar = new Sidebar(this.store, { onSelect: (id) => this.select(id), onBadge: (count) => this.drawer.setBadge(count) });
    this.composer = new Composer({ onSend: (text) => this.sendChat(text), onFile: (file) => this.upload.start(file, this.active) });
    this.upload = new UploadPanel(document.getElementById("upload-panel"), {
      token,
      onDeploy: (name) => this.composer.prefill(t("upload.deployText", { name })),
    });
    this.ops = new OpsView(token);
    this.socket = null;
  }

  async start() {
    const rooms = await fetchRooms(this.token); // a bad token fails here, before any socket
    await this.addRooms(rooms);
    const wanted = roomInHash() || localStorage.getItem(ROOM_KEY);
    this.select(this.store.room(wanted) ? wanted : rooms[0]?.id ?? null);
    window.addEventListener("hashchange", () => this.select(roomInHash()));
    this.socket = new ChatSocket(this.token, {
      onHello: (frame) => this.hello(frame),
      onFrame: (frame) => this.received(frame),
      onStatus: (state, detail) => this.sidebar.setConnection(state, detail),
      onAuthFailed: () => this.onAuthFailed(),
      onJoinSent: (roomId, messageId) => this.store.joinsSent.set(messageId, roomId),
      roomIds: () => [...this.store.rooms.keys()],
      afterSeq: (roomId) => this.store.resumeAfter(roomId, HISTORY_PAGE),
    });
    this.socket.start();
    onLangChange(() => this.relabel());
  }

  /** New rooms: their latest history page from REST, then a timeline each. */
  async addRooms(list) {
    const fresh = list.filter((info) => !this.store.room(info.id));
    this.store.setRooms(list);
    await Promise.all(
      fresh.map(async (info) => {
        const room = this.store.room(info.id);
        try {
          for (const frame of await fetchLatest(this.token, info.id, info.last_seq)) this.store.addFrame(frame);
          room.historyLoaded = true;
        } catch (error) {
          room.refused = { code: error.code, message: error.message };
        }
        const timeline = new Timeline(this.ctx, room, { onEarlier: (r) => this.loadEarlier(r), onRetry: (id) => this.retry(id) });
        this.timelines.set(info.id, timeline);
        document.getElementById("timeline-host").append(timeline.node);
        timeline.renderAll();
      }),
    );
    this.sidebar.renderRooms();
    return fresh.map((info) => info.id);
  }

  async loadEarlier(room) {
    if (!room.hasEarlier || room.loadingEarlier) return;
    room.loadingEarlier = true;
    try {
      for (const frame of await fetchEarlier(this.token, room.info.id, room.lowest)) this.store.addFrame(frame);
    } catch (error) {
      notice(`${error.code}: ${error.message}`);
    } finally {
      room.loadingEarlier = false;
    }
    this.timelines.get(room.info.id).renderAll();
  }

  select(roomId) {
    if (!roomId || !this.timelines.has(roomId)) return;
    this.ops.close();
    this.timelines.get(this.active)?.hide();
    this.active = roomId;
    localStorage.setItem(ROOM_KEY, roomId);
    history.replaceState(null, "", `#${encodeURIComponent(roomId)}`); // a link to this room
    const room = this.store.room(roomId);
    const timeline = this.timelines.get(roomId);
    timeline.show();
    if (room.unread > 0) timeline.scrollToBottom();
    room.unread = 0;
    this.sidebar.setActive(roomId);
    this.renderRoomHead();
    this.drawer.close();
    if (!this.drawer.isPhone) this.composer.focus(); // on a phone the keyboard would cover the room
  }

  renderRoomHead() {
    const info = this.store.room(this.active)?.info;
    document.getElementById("room-name").textContent = info ? info.name || info.id : "";
    document.getElementById("room-meta").textContent = info
      ? `#${info.id} · ${info.scope ? t("room.scope", { scope: info.scope }) : t("room.everywhere")}`
      : "";
  }

  relabel() {
    applyStatic();
    this.sidebar.renderMe();
    this.sidebar.renderRooms();
    this.sidebar.renderConnection();
    this.renderRoomHead();
    this.ops.render();
    for (const timeline of this.timelines.values()) timeline.renderAll();
  }

  hello(frame) {
    this.epoch += 1;
    this.stats.hellos += 1;
    this.store.me = { user: frame.user, roles: frame.roles ?? [] };
    this.ops.setMe(this.store.me);
    this.sidebar.renderMe();
    this.sidebar.renderRooms();
    for (const timeline of this.timelines.values()) timeline.renderAll();
    if (this.stats.hellos > 1) this.refreshRooms();
    setTimeout(() => this.flushQueued(), 0); // after the JOINs the socket sends next
  }

  async refreshRooms() {
    try {
      for (const roomId of await this.addRooms(await fetchRooms(this.token))) this.socket.join(roomId);
    } catch {
      // the list stays as it was; the next reconnect tries again
    }
  }

  received(frame) {
    this.stats.frames += 1;
    if (frame.msg_type === "JOINED") {
      const room = this.store.room(frame.room_id);
      if (room) {
        room.joinedLast = frame.last_seq;
        room.joinedEpoch = this.epoch;
        room.refused = null;
        this.restoreFeedback(frame.room_id, frame.feedback);
        this.caughtUp(room);
      }
      return;
    }
    if (frame.msg_type === "ERROR" && !Number.isInteger(frame.seq)) {
      this.directError(frame);
      return;
    }
    if (!Number.isInteger(frame.seq) || !this.store.room(frame.room_id)) return;
    if (!this.store.addFrame(frame)) {
      this.stats.duplicates += 1;
      return;
    }
    const room = this.store.room(frame.room_id);
    const timeline = this.timelines.get(frame.room_id);
    if (!timeline) return; // its history is still loading; renderAll will show the frame
    const echo = this.store.matchEcho(frame);
    timeline.insert(frame);
    if (echo) timeline.renderPending();
    if (frame.task_id) {
      timeline.refreshTask(frame.task_id);
      this.sidebar.renderRooms(); // approval requests waiting for this user
    }
    if (frame.msg_type === "ALERT" && frame.alert_id) timeline.refreshAlert(frame.alert_id);
    // a card's diagnostic that has run may be pressed again: its card shows it
    if (frame.msg_type === "TASK_FINISHED") this.refreshAlerts(frame.room_id);
    if (frame.msg_type === "BUTTON_STATE") for (const id of frame.action_ids ?? []) timeline.refreshAction(id);
    if (frame.msg_type === "ERROR" && frame.ref) this.refusedAction(frame);
    if (this.isNews(frame) && frame.room_id !== this.active && !echo) {
      room.unread += 1;
      this.sidebar.renderRooms();
    }
    this.caughtUp(room);
  }

  refreshAlerts(roomId) {
    const timeline = this.timelines.get(roomId);
    for (const view of this.store.alerts.values()) {
      if (view.latest?.room_id === roomId) timeline?.refreshAlert(view.alertId);
    }
  }

  /** Whether a frame counts as unread: a new alert does, its later updates do not. */
  isNews(frame) {
    if (frame.msg_type === "ALERT") return this.store.alerts.get(frame.alert_id)?.anchorSeq === frame.seq;
    return UNREAD_TYPES.has(frame.msg_type);
  }

  /** After a reconnect's replay: what we sent before the drop and never saw stored failed. */
  caughtUp(room) {
    if (room.joinedEpoch !== this.epoch || room.highest < room.joinedLast) return;
    let changed = false;
    for (const sent of this.store.chatsSent.values()) {
      if (sent.roomId === room.info.id && sent.state === "sending" && sent.epoch < this.epoch) {
        sent.state = "failed";
        changed = true;
      }
    }
    if (changed) this.timelines.get(room.info.id).renderPending();
  }

  /** An ERROR for one of our frames (no seq): shown next to the button or message it refused. */
  directError(frame) {
    const error = { code: frame.code, message: frame.message ?? "" };
    // a vote the hub refused (not a card of this room) is not worth a notice: it stays
    // chosen in this page only, and the next JOINED says what the hub has
    if (this.store.feedbackSent.has(frame.ref)) return;
    if (this.refusedAction(frame)) return;
    const sent = this.store.chatsSent.get(frame.ref);
    if (sent) {
      sent.state = "failed";
      sent.error = error;
      this.timelines.get(sent.roomId)?.renderPending();
      return;
    }
    const joined = this.store.joinsSent.get(frame.ref);
    const room = joined && this.store.room(joined);
    if (room) {
      room.refused = error;
      this.sidebar.renderRooms();
      return;
    }
    notice(`${errorSentence(frame.code)} ${error.message}`.trim());
  }

  refusedAction(frame) {
    const actionId = this.store.actionsSent.get(frame.ref);
    if (!actionId) return false;
    const state = frame.code === "ACTION_EXPIRED" ? "expired" : "refused";
    this.store.setButton(actionId, state, { code: frame.code, message: frame.message ?? "" });
    for (const timeline of this.timelines.values()) timeline.refreshAction(actionId);
    return true;
  }

  press(frame, button) {
    const id = this.socket?.send({ msg_type: "ACTION", room_id: frame.room_id, action_id: button.action_id });
    if (!id) {
      notice(t("composer.offline"));
      return;
    }
    this.store.actionsSent.set(id, button.action_id);
    this.store.setButton(button.action_id, "pressed", null, this.store.room(frame.room_id)?.highest ?? 0);
    for (const timeline of this.timelines.values()) timeline.refreshAction(button.action_id);
  }

  /** This person's own votes in a room, as the hub stored them (JOINED's `feedback`). */
  restoreFeedback(roomId, votes) {
    if (!votes || typeof votes !== "object") return;
    const timeline = this.timelines.get(roomId);
    for (const [messageId, helpful] of Object.entries(votes)) {
      if (typeof helpful !== "boolean" || this.store.feedback.get(messageId) === helpful) continue;
      this.store.feedback.set(messageId, helpful);
      timeline?.refreshFeedback(messageId);
    }
  }

  /** Thumbs up/down on a bot card: shown at once, sent as FEEDBACK when connected. */
  feedback(frame, helpful) {
    if (this.store.feedback.get(frame.message_id) === helpful) return;
    this.store.feedback.set(frame.message_id, helpful);
    const id = this.socket?.send({ msg_type: "FEEDBACK", room_id: frame.room_id, target_message_id: frame.message_id, helpful });
    if (id) this.store.feedbackSent.set(id, frame.message_id);
    this.timelines.get(frame.room_id)?.refreshFeedback(frame.message_id);
  }

  /** Redraw everything once `when` (ms) has passed: buttons and requests expire by the clock. */
  remindAt(when) {
    if (!Number.isFinite(when) || when <= Date.now() || this.reminders.has(when)) return;
    const delay = Math.min(when - Date.now() + 250, 2 ** 31 - 1);
    this.reminders.set(
      when,
      setTimeout(() => {
        this.reminders.delete(when);
        for (const timeline of this.timelines.values()) timeline.renderAll();
        this.sidebar.renderRooms();
      }, delay),
    );
  }

  sendChat(content, messageId = newMessageId()) {
    if (!this.active) return false;
    const sent = { roomId: this.active, content, state: "queued", error: null, seq: null, epoch: this.epoch };
    this.store.chatsSent.set(messageId, sent);
    this.transmit(messageId, sent);
    const timeline = this.timelines.get(this.active);
    timeline.renderPending();
    timeline.scrollToBottom(); // what you just wrote is where you look next
    return true;
  }

  transmit(messageId, sent) {
    const ok = this.socket?.send({ msg_type: "CHAT", message_id: messageId, room_id: sent.roomId, content: sent.content });
    sent.state = ok ? "sending" : "queued";
    sent.epoch = this.epoch;
    sent.error = null;
  }

  flushQueued() {
    for (const [messageId, sent] of this.store.chatsSent) {
      if (sent.state === "queued") {
        this.transmit(messageId, sent);
        this.timelines.get(sent.roomId)?.renderPending();
      }
    }
  }

  retry(messageId) {
    const sent = this.store.chatsSent.get(messageId);
    if (!sent) return;
    this.store.chatsSent.delete(messageId);
    const fresh = newMessageId();
    this.store.chatsSent.set(fresh, sent);
    this.transmit(fresh, sent);
    this.timelines.get(sent.roomId)?.renderPending();
  }
}

/** The room a link names (…/#ops), if any. */
function roomInHash() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return "";
  }
}

/** A message not tied to anything on screen, above the composer. */
export function notice(text) {
  const box = document.getElementById("notice");
  box.replaceChildren(document.createTextNode(text));
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn btn-ghost";
  close.textContent = t("notice.close");
  close.addEventListener("click", () => (box.hidden = true));
  box.append(close);
  box.hidden = false;
}
