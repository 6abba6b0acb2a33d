// A task as a room has heard of it, folded from the frames that tell about it: plan,
// approval, live progress, result. Cards render from this, never from the bot's sentences.

const FINAL = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "REJECTED", "EXPIRED"]);
const STARTED = new Set(["DISPATCHED", "RUNNING"]);

export function isFinal(status) {
  return FINAL.has(status);
}

// Why a task ended, when TASK_FINISHED carries no `reason` yet: what its status alone says.
const REASON_OF_STATUS = { REJECTED: "REJECTED", EXPIRED: "EXPIRED", CANCELLED: "CANCELLED", TIMED_OUT: "DEADLINE" };

// Until the hub sends `actor`, who decided is only in its own sentence ("approved by bob",
// "bob님이 반려했습니다"). Read it from there, and from nowhere else.
const ACTOR_EN = /\b(?:approved|rejected|cancelled) by ([^\s:;,]+?)[.]?(?:\s|$)/;
const ACTOR_KO = /([^\s:]+)님이 (?:승인|반려|취소)/;

export function actorIn(text) {
  const match = ACTOR_EN.exec(text ?? "") ?? ACTOR_KO.exec(text ?? "");
  return match ? match[1] : null;
}

// the agent's progress messages end a step with ": ok" or ": FAILED" (agent/task_execution.py)
const STEP_END = /: (ok|FAILED)\b/;

export class TaskView {
  constructor(taskId, roomId) {
    this.taskId = taskId;
    this.roomId = roomId;
    this.plan = null;
    this.systemLabel = null; // the CMDB's name of the system, when the hub sends it
    this.artifacts = []; // [{filename, sha256, size, uploaded_by}] the approver approves
    this.requiresApproval = false;
    this.requestedBy = null;
    this.expiresAt = null;
    this.status = "QUEUED";
    this.statusSeq = 0;
    this.started = false; // the agent got it: progress means something from here on
    this.progress = 0;
    this.nodes = new Map(); // node -> {step, message, progress, phase}
    this.approvedBy = null;
    this.finished = null; // the TASK_FINISHED frame
    this.reason = null; // why it ended (TASK_FINISHED reason, or what its status says)
    this.actor = null; // who ended it (rejected, cancelled), when known
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
    if (STARTED.has(status)) this.started = true;
  }

  node(name) {
    if (!this.nodes.has(name)) this.nodes.set(name, { step: null, message: "", progress: 0, phase: "idle" });
    return this.nodes.get(name);
  }

  /** One node order for every card: the plan's targets first, then any others by name. */
  nodeOrder() {
    const planned = [...(this.plan?.target_nodes ?? [])];
    const others = [...this.nodes.keys()].filter((name) => !planned.includes(name)).sort();
    return [...planned, ...others];
  }

  /** Results grouped by node in nodeOrder(), each node's steps in the plan's order. */
  orderedResults(results) {
    const order = this.nodeOrder();
    const steps = this.plan?.action_sequence ?? [];
    const rank = (list, value) => {
      const i = list.indexOf(value);
      return i < 0 ? list.length : i;
    };
    return results
      .map((result, index) => ({ result, index }))
      .sort(
        (a, b) =>
          rank(order, a.result.node) - rank(order, b.result.node) ||
          String(a.result.node).localeCompare(String(b.result.node)) ||
          rank(steps, a.result.action) - rank(steps, b.result.action) ||
          a.index - b.index,
      )
      .map(({ result }) => result);
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

function takePlan(task, frame) {
  task.plan = task.plan ?? frame.plan ?? null;
  task.systemLabel = frame.system_label ?? task.systemLabel;
  if (Array.isArray(frame.artifacts) && frame.artifacts.length) task.artifacts = frame.artifacts;
  if (frame.requested_by) task.requestedBy = frame.requested_by;
  for (const node of task.plan?.target_nodes ?? []) task.node(node);
}

// Frames may be folded in any order (history pages load after live frames), so each
// handler only moves things forward: progress by max, status by seq, results are final.
const TASK_FRAMES = {
  COMMAND_PLAN(task, frame, seq) {
    takePlan(task, frame);
    task.requiresApproval = Boolean(frame.requires_approval);
    task.setStatus(task.requiresApproval ? "PENDING_APPROVAL" : "QUEUED", seq);
  },
  APPROVAL_REQUEST(task, frame, seq) {
    takePlan(task, frame);
    task.requiresApproval = true;
    task.expiresAt = frame.expires_at ?? null;
    task.setStatus("PENDING_APPROVAL", seq);
  },
  TASK_UPDATE(task, frame, seq) {
    task.setStatus(frame.status, seq);
    if (frame.status === "APPROVED") task.approvedBy = frame.actor ?? actorIn(frame.message) ?? task.approvedBy;
    if (typeof frame.progress === "number" && frame.progress > 0) {
      task.started = true;
      task.progress = Math.max(task.progress, frame.progress);
    }
    if (!frame.node) return;
    task.started = true;
    const node = task.node(frame.node);
    const steps = task.plan?.action_sequence ?? [];
    const index = Math.max(0, steps.indexOf(frame.step));
    const end = STEP_END.exec(frame.message ?? "");
    const estimate = (index + (end ? 1 : 0.5)) / task.stepsPerNode();
    if (estimate >= node.progress && node.phase !== "failed") {
      node.progress = Math.min(1, estimate);
      node.step = frame.step ?? node.step;
      node.message = frame.message ?? node.message;
      node.phase = end ? (end[1] === "ok" ? "done" : "failed") : "running";
    }
  },
  TASK_FINISHED(task, frame) {
    const results = frame.results ?? [];
    task.finished = frame;
    task.status = frame.status;
    task.reason = frame.reason ?? REASON_OF_STATUS[frame.status] ?? null;
    task.actor = frame.actor ?? actorIn(frame.content) ?? null;
    if (results.length) {
      task.started = true;
      if (frame.status === "SUCCEEDED" || frame.status === "FAILED") task.progress = 1;
    }
    for (const result of results) {
      const node = task.node(result.node);
      node.progress = 1;
      node.step = result.action;
      if (node.phase !== "failed") node.phase = result.ok ? "done" : "failed";
    }
  },
};

export const TASK_FRAME_TYPES = new Set(Object.keys(TASK_FRAMES));
