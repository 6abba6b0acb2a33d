// What the app knows: rooms and their frames (deduplicated by seq), tasks folded from the
// frames that tell about them, button states, and what this browser sent.

const FINAL = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "REJECTED", "EXPIRED"]);

export function isFinal(status) {
  return FINAL.has(status);
}

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

/** A task as the room has heard of it: plan, approval, live progress, result. */
export class TaskView {
  constructor(taskId, roomId) {
    this.taskId = taskId;
    this.roomId = roomId;
    this.plan = null;
    this.headline = null; // the plan in the bot's words: its first line, without "[T…]"
    this.requiresApproval = false;
    this.requestedBy = null;
    this.expiresAt = null;
    this.status = "QUEUED";
    this.statusSeq = 0;
    this.progress = 0;
    this.nodes = new Map(); // node -> {step, message, progress, ok}
    this.finished = null; // the TASK_FINISHED frame
    this.anchorSeq = null; // the first frame about the task: where a progress card sits
  }

  get isFinal() {
    return this.finished !== null || isFinal(this.status);
  }

  setStatus(status, seq) {
    if (this.finished !== null) return;
    if (seq >= this.statusSeq) {
      this.status = status;
      this.statusSeq = seq;
    }
  }

  node(name) {
    if (!this.nodes.has(name)) this.nodes.set(name, { step: null, message: "", progress: 0, ok: null });
    return this.nodes.get(name);
  }

  /** Steps per node, as planned (a button-run task has one step per node). */
  stepsPerNode() {
    return this.plan?.action_sequence?.length || 1;
  }

  apply(frame) {
    const seq = frame.seq ?? 0;
    if (this.anchorSeq === null || seq < this.anchorSeq) this.anchorSeq = seq;
    const handler = TASK_FRAMES[frame.msg_type];
    if (handler) handler(this, frame, seq);
  }
}

// Frames may be folded in any order (history pages load after live frames), so each
// handler only moves things forward: progress by max, status by seq, results are final.
const TASK_FRAMES = {
  COMMAND_PLAN(task, frame, seq) {
    task.plan = frame.plan ?? null;
    task.headline = String(frame.content ?? "").split("\n", 1)[0].replace(`[${task.taskId}]`, "").trim() || null;
    task.requiresApproval = Boolean(frame.requires_approval);
    for (const node of task.plan?.target_nodes ?? []) task.node(node);
    task.setStatus(task.requiresApproval ? "PENDING_APPROVAL" : "QUEUED", seq);
  },
  APPROVAL_REQUEST(task, frame, seq) {
    task.plan = task.plan ?? frame.plan ?? null;
    task.requiresApproval = true;
    task.requestedBy = frame.requested_by ?? null;
    task.expiresAt = frame.expires_at ?? null;
    for (const node of task.plan?.target_nodes ?? []) task.node(node);
    task.setStatus("PENDING_APPROVAL", seq);
  },
  TASK_UPDATE(task, frame, seq) {
    task.setStatus(frame.status, seq);
    if (typeof frame.progress === "number") task.progress = Math.max(task.progress, frame.progress);
    if (!frame.node) return;
    const node = task.node(frame.node);
    const steps = task.plan?.action_sequence ?? [];
    const index = Math.max(0, steps.indexOf(frame.step));
    // the agent's message ends a step with ": ok" or ": FAILED"; until then it is half done
    const done = /: (ok|FAILED)\b/.test(frame.message ?? "");
    const estimate = (index + (done ? 1 : 0.5)) / task.stepsPerNode();
    if (estimate >= node.progress) {
      node.progress = Math.min(1, estimate);
      node.step = frame.step ?? node.step;
      node.message = frame.message ?? node.message;
    }
    if (done && /: FAILED\b/.test(frame.message)) node.ok = false;
  },
  TASK_FINISHED(task, frame) {
    task.finished = frame;
    task.status = frame.status;
    task.progress = 1;
    for (const result of frame.results ?? []) {
      const node = task.node(result.node);
      node.progress = 1;
      node.ok = node.ok === false ? false : Boolean(result.ok);
      node.step = result.action;
      node.message = result.summary ?? "";
    }
  },
};

const TASK_FRAME_TYPES = new Set(Object.keys(TASK_FRAMES));

export class Store {
  constructor() {
    this.me = null; // {user, roles}
    this.rooms = new Map();
    this.tasks = new Map();
    this.buttons = new Map(); // action_id -> {state, error}
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
    return true;
  }

  task(taskId, roomId) {
    if (!this.tasks.has(taskId)) this.tasks.set(taskId, new TaskView(taskId, roomId));
    return this.tasks.get(taskId);
  }

  button(actionId) {
    return this.buttons.get(actionId) ?? { state: "idle", error: null };
  }

  setButton(actionId, state, error = null) {
    this.buttons.set(actionId, { state, error });
  }

  /**
   * Approve/Reject are for approvers and admins whose scope covers the plan's system
   * (roles read "approver", "approver:MOF" or "approver:MOF/BUDGET"). The hub checks again.
   */
  mayApprove(plan) {
    const inst = plan?.institution;
    const system = plan?.system_name;
    return (this.me?.roles ?? []).some((role) => {
      const [name, scope] = role.split(":", 2);
      if (name !== "approver" && name !== "admin") return false;
      return !scope || scope === inst || scope === `${inst}/${system}`;
    });
  }

  /** Approval requests in a room that this user could decide now. */
  awaitingMe(roomId) {
    let count = 0;
    for (const task of this.tasks.values()) {
      if (task.roomId !== roomId || task.status !== "PENDING_APPROVAL" || !task.requestedBy) continue;
      if (task.requestedBy !== this.me?.user && this.mayApprove(task.plan)) count += 1;
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
