// What the app knows: rooms and their frames (deduplicated by seq), tasks and alerts folded
// from the frames that tell about them, button states, and what this browser sent.

import { mayApprove } from "./roles.js";
import { TASK_FRAME_TYPES, TaskView } from "./task_view.js";

export { isFinal } from "./task_view.js";

/** One room: its stored frames by seq. A seq seen once is never added again. */
export class RoomLog {
  constructor(info) {
    this.info = info; // {id, name, scope, last_seq}
    this.frames = new Map();
    this.highest = 0;
    this.lowest = null; // lowest seq loaded: "load earlier" starts below it
    this.unread = 0;
    this.historyLoaded = false;
    this.refused = null; // an ERROR that refused our JOIN
  }

  /** Add a stored frame; false when its seq was seen before (a replayed duplicate). */
  add(frame) {
    const seq = frame.seq;
    if (!Number.isInteger(seq) || this.frames.has(seq)) return false;
    this.frames.set(seq, frame);
    if (seq > this.highest) this.highest = seq;
    if (this.lowest === null || seq < this.lowest) this.lowest = seq;
    return true;
  }

  sorted() {
    return [...this.frames.values()].sort((a, b) => a.seq - b.seq);
  }

  get hasEarlier() {
    return this.lowest !== null && this.lowest > 1;
  }
}

/** One incident's card: the newest ALERT by seq, shown where the first one sits. */
export class AlertView {
  constructor(alertId) {
    this.alertId = alertId;
    this.latest = null;
    this.anchorSeq = null;
  }

  apply(frame) {
    if (this.anchorSeq === null || frame.seq < this.anchorSeq) this.anchorSeq = frame.seq;
    if (this.latest === null || frame.seq > this.latest.seq) this.latest = frame;
  }
}

const ADDRESSED = /^\s*@(?:guardia|bot)\b/i;
const SERVER_BUTTON_STATES = { USED: "used", CLOSED: "closed", EXPIRED: "expired" };

/** Stored frames that fold into the store besides tasks: msg_type -> fold(store, frame). */
const FOLDS = {
  BUTTON_STATE(store, frame) {
    const state = SERVER_BUTTON_STATES[frame.state];
    if (!state) return;
    for (const actionId of frame.action_ids ?? []) {
      const known = store.serverButtons.get(actionId);
      if (!known || known.seq < frame.seq) store.serverButtons.set(actionId, { state, by: frame.by ?? null, seq: frame.seq });
    }
  },
  ALERT(store, frame) {
    if (!frame.alert_id) return;
    if (!store.alerts.has(frame.alert_id)) store.alerts.set(frame.alert_id, new AlertView(frame.alert_id));
    store.alerts.get(frame.alert_id).apply(frame);
  },
};

export class Store {
  constructor() {
    this.me = null; // {user, roles}
    this.rooms = new Map();
    this.tasks = new Map();
    this.alerts = new Map(); // alert_id -> AlertView
    this.buttons = new Map(); // action_id -> {state, error}: what became of our own press
    this.serverButtons = new Map(); // action_id -> {state, by, seq}: BUTTON_STATE frames
    this.feedback = new Map(); // target message_id -> helpful (this browser's thumbs)
    this.feedbackSent = new Map(); // message_id of a FEEDBACK frame -> target message_id
    this.actionsSent = new Map(); // message_id -> action_id
    this.chatsSent = new Map(); // message_id -> {roomId, content, state, error, seq}
    this.joinsSent = new Map(); // message_id -> room_id
  }

  setRooms(list) {
    for (const info of list) {
      const room = this.rooms.get(info.id);
      if (room) room.info = info;
      else this.rooms.set(info.id, new RoomLog(info));
    }
  }

  room(id) {
    return this.rooms.get(id);
  }

  /** Store a room frame; returns false for a duplicate. Task frames also fold into tasks. */
  addFrame(frame) {
    const room = this.rooms.get(frame.room_id);
    if (!room || !room.add(frame)) return false;
    if (frame.task_id && TASK_FRAME_TYPES.has(frame.msg_type)) this.task(frame.task_id, frame.room_id).apply(frame);
    FOLDS[frame.msg_type]?.(this, frame);
    return true;
  }

  task(taskId, roomId) {
    if (!this.tasks.has(taskId)) this.tasks.set(taskId, new TaskView(taskId, roomId));
    return this.tasks.get(taskId);
  }

  button(actionId) {
    return this.buttons.get(actionId) ?? { state: "idle", error: null, since: null };
  }

  /** `since`: the room's newest seq when we pressed (what came of the press comes after). */
  setButton(actionId, state, error = null, since = null) {
    this.buttons.set(actionId, { state, error, since });
  }

  /** Approve/Reject: approvers and admins in the plan's scope. The hub checks again. */
  mayApprove(plan) {
    return mayApprove(this.me, plan);
  }

  /**
   * Who asked for a task. COMMAND_PLAN does not say yet (only APPROVAL_REQUEST does), so
   * until the hub sends `requested_by` on it: the last person who addressed the bot in the
   * room before the plan appeared. Only decides whether a Cancel button is shown.
   */
  requesterOf(task) {
    if (task.requestedBy) return task.requestedBy;
    const room = this.rooms.get(task.roomId);
    let best = null;
    for (const frame of room?.frames.values() ?? []) {
      if (frame.msg_type !== "CHAT" || frame.sender_type !== "HUMAN" || frame.seq >= task.anchorSeq) continue;
      if (!ADDRESSED.test(frame.content ?? "")) continue;
      if (!best || frame.seq > best.seq) best = frame;
    }
    return best?.sender ?? null;
  }

  /** The state a server told us a button is in (BUTTON_STATE), if any. */
  serverButton(actionId) {
    return this.serverButtons.get(actionId) ?? null;
  }

  /** Approval requests in a room that this user could decide now. */
  awaitingMe(roomId) {
    let count = 0;
    for (const task of this.tasks.values()) {
      if (task.roomId !== roomId || task.status !== "PENDING_APPROVAL" || !task.requestedBy) continue;
      if (task.requestedBy !== this.me?.user && !task.isFinal && this.mayApprove(task.plan)) count += 1;
    }
    return count;
  }

  /** Where a (re)JOIN resumes: after the newest frame we have; without history, the last page. */
  resumeAfter(roomId, page) {
    const room = this.rooms.get(roomId);
    if (!room) return 0;
    return room.historyLoaded ? room.highest : Math.max(room.highest, room.info.last_seq - page, 0);
  }

  /** The message this browser sent that `frame` is the stored echo of, if any. */
  matchEcho(frame) {
    // a line of ours said through a bridge is not this browser's echo
    if (frame.msg_type !== "CHAT" || frame.sender !== this.me?.user || frame.via) return null;
    for (const [messageId, sent] of this.chatsSent) {
      if (sent.roomId === frame.room_id && sent.seq == null && sent.content === frame.content) {
        sent.seq = frame.seq;
        sent.state = "sent";
        return messageId;
      }
    }
    return null;
  }
}
