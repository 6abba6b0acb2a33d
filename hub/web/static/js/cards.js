// Cards for what the bot posts: a command plan, an approval request, live task progress,
// a task's result, an error; and rows of buttons with their pressed/expired/refused states.

import { el, progressBar } from "./dom.js";
import { formatDateTime, formatDuration, label, t } from "./i18n.js";

const STATUS_TONE = {
  QUEUED: "neutral",
  PENDING_APPROVAL: "warn",
  APPROVED: "info",
  DISPATCHED: "info",
  RUNNING: "info",
  SUCCEEDED: "ok",
  FAILED: "bad",
  TIMED_OUT: "bad",
  REJECTED: "muted",
  EXPIRED: "muted",
  CANCELLED: "muted",
};

function statusPill(status) {
  return el("span", { class: `pill pill-${STATUS_TONE[status] ?? "neutral"}`, text: label("status", status), data: { status } });
}

function taskTag(taskId) {
  return el("code", { class: "task-id", text: taskId });
}

function cardHead(icon, title, taskId, extra = []) {
  return el("div", { class: "card-head" }, [
    el("span", { class: "card-icon", text: icon, attrs: { "aria-hidden": "true" } }),
    el("span", { class: "card-title", text: title }),
    taskId ? taskTag(taskId) : null,
    el("span", { class: "card-head-fill" }),
    ...extra,
  ]);
}

function field(name, value) {
  return el("div", { class: "field" }, [el("span", { class: "field-name", text: name }), el("span", { class: "field-value" }, value)]);
}

function planFields(plan) {
  if (!plan) return [];
  const targets = (plan.target_nodes ?? []).map((node) => el("code", { class: "chip", text: node }));
  const steps = (plan.action_sequence ?? []).flatMap((step, i) => [
    i ? el("span", { class: "arrow", text: "→", attrs: { "aria-hidden": "true" } }) : null,
    el("code", { class: "step", text: step }),
  ]);
  const files = (plan.deploy_artifacts ?? []).map((name) => el("code", { class: "chip chip-file", text: name }));
  return [
    field(t("plan.targets"), targets),
    field(t("plan.steps"), steps),
    files.length ? field(t("plan.files"), files) : null,
  ];
}

function planSummary(plan) {
  if (!plan) return "";
  const layer = plan.infrastructure_layer ? ` ${plan.infrastructure_layer}` : "";
  return `${label("intent", plan.intent_type)} · ${plan.institution}/${plan.system_name}${layer}`;
}

// -- buttons -----------------------------------------------------------------------------

/** The state a button shows: what happened to our press, else what the task says. */
function buttonState(ctx, button, task) {
  const own = ctx.store.button(button.action_id);
  if (own.state !== "idle") return own;
  const code = button.command_code;
  if (task && (code === "APPROVE" || code === "REJECT") && task.status !== "PENDING_APPROVAL") {
    return { state: "decided", error: null };
  }
  return own;
}

/** A Cancel button of a finished task can do nothing more: it is not shown at all. */
function stillUseful(button, task) {
  return !(task && task.isFinal && button.command_code === "CANCEL_TASK");
}

const STATE_WORD = { pressed: "btn.pressed", expired: "btn.expired", refused: "btn.refused", decided: "btn.decided" };

export function buttonRow(ctx, frame, allButtons, task = null) {
  const buttons = (allButtons ?? []).filter((button) => stillUseful(button, task));
  if (!buttons.length) return null;
  const notes = [];
  const row = el("div", { class: "actions", data: { actions: buttons.map((b) => b.action_id).join(" ") } });
  for (const button of buttons) {
    const { state, error } = buttonState(ctx, button, task);
    const node = el(
      "button",
      {
        class: `btn btn-${button.style ?? "default"}`,
        attrs: { type: "button", disabled: state !== "idle" },
        data: { actionId: button.action_id, code: button.command_code, state },
        on: { click: () => ctx.press(frame, button) },
      },
      [button.label, STATE_WORD[state] ? el("span", { class: "btn-state", text: t(STATE_WORD[state]) }) : null],
    );
    row.append(node);
    if (error) notes.push(el("div", { class: "action-error", data: { code: error.code }, attrs: { role: "alert" } }, [el("strong", { text: error.code }), " ", error.message]));
  }
  return el("div", { class: "action-block" }, [row, ...notes]);
}

// -- task progress ------------------------------------------------------------------------

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

/** Live progress of a task: one bar overall, one per node, with each node's latest step. */
function taskProgress(task) {
  const started = task.progress > 0 || !["QUEUED", "PENDING_APPROVAL"].includes(task.status);
  if (!started) return null;
  const rows = [...task.nodes.entries()].map(([name, node]) => {
    const tone = node.ok === false ? "bad" : node.progress >= 1 ? "ok" : node.progress > 0 ? "run" : "idle";
    return el("div", { class: `node-row node-${tone}`, data: { node: name } }, [
      el("code", { class: "node-name", text: name }),
      progressBar(node.progress, "bar bar-node"),
      el("span", { class: "node-step", text: node.step ?? t("task.waiting") }),
      el("span", { class: "node-message", text: node.message ?? "", title: node.message ?? "" }),
    ]);
  });
  return el("div", { class: "progress", data: { task: task.taskId, status: task.status } }, [
    el("div", { class: "progress-overall" }, [
      el("span", { class: "progress-label", text: t("task.overall") }),
      progressBar(task.progress, "bar bar-overall"),
      el("span", { class: "progress-percent", text: percent(task.progress) }),
    ]),
    rows.length ? el("div", { class: "node-rows" }, rows) : null,
  ]);
}

// -- cards --------------------------------------------------------------------------------

export function planCard(ctx, frame) {
  const task = ctx.store.tasks.get(frame.task_id);
  const badge = frame.requires_approval
    ? el("span", { class: "badge badge-warn", text: t("plan.needsApproval") })
    : el("span", { class: "badge badge-ok", text: t("plan.runsNow") });
  return el("section", { class: "card card-plan", data: { task: frame.task_id, kind: "plan" } }, [
    cardHead("▤", t("plan.title"), frame.task_id, [badge, task ? statusPill(task.status) : null]),
    el("div", { class: "card-lead", text: task?.headline || planSummary(frame.plan) }),
    el("div", { class: "fields" }, planFields(frame.plan)),
    task ? taskProgress(task) : null,
    buttonRow(ctx, frame, frame.interactive_actions, task),
  ]);
}

function approvalButtons(ctx, frame, task) {
  const open = !task || task.status === "PENDING_APPROVAL";
  if (frame.requested_by === ctx.store.me?.user) return open ? el("p", { class: "card-note", text: t("approval.own") }) : null;
  if (!ctx.store.mayApprove(frame.plan)) return open ? el("p", { class: "card-note", text: t("approval.wait") }) : null;
  return buttonRow(ctx, frame, frame.interactive_actions, task);
}

/** What became of an approval request, from its task's status. */
function decision(task) {
  const status = task?.status ?? "PENDING_APPROVAL";
  if (["PENDING_APPROVAL", "REJECTED", "EXPIRED", "CANCELLED"].includes(status)) return status;
  return status === "QUEUED" ? "PENDING_APPROVAL" : "APPROVED";
}

export function approvalCard(ctx, frame) {
  const task = ctx.store.tasks.get(frame.task_id);
  const status = decision(task);
  const open = status === "PENDING_APPROVAL";
  return el("section", { class: `card card-approval${open ? " is-open" : ""}`, data: { task: frame.task_id, kind: "approval" } }, [
    cardHead("⚑", t("approval.title"), frame.task_id, [statusPill(status)]),
    el("div", { class: "card-lead", text: task?.headline || planSummary(frame.plan) }),
    el("p", { class: "card-text", text: frame.content ?? "" }),
    el("div", { class: "fields" }, planFields(frame.plan)),
    el("div", { class: "card-meta" }, [
      el("span", { text: t("approval.by", { user: frame.requested_by }) }),
      el("span", { text: t("approval.expires", { time: formatDateTime(frame.expires_at) }), title: frame.expires_at }),
    ]),
    approvalButtons(ctx, frame, task),
  ]);
}

/** A task we only know from its updates (a button-run check): its progress alone. */
export function progressCard(ctx, frame) {
  const task = ctx.store.tasks.get(frame.task_id);
  return el("section", { class: "card card-progress", data: { task: frame.task_id, kind: "progress" } }, [
    cardHead("◔", t("task.title"), frame.task_id, [statusPill(task?.status ?? frame.status)]),
    task ? taskProgress(task) : null,
  ]);
}

function resultRow(result) {
  const lines = (result.output_tail ?? "").split("\n").filter((line) => line !== "").length;
  return el("div", { class: `result-row ${result.ok ? "is-ok" : "is-bad"}`, data: { node: result.node } }, [
    el("div", { class: "result-line" }, [
      el("span", { class: "result-mark", text: result.ok ? "✓" : "✕", attrs: { "aria-label": result.ok ? "ok" : "failed" } }),
      el("code", { class: "node-name", text: result.node }),
      el("code", { class: "step", text: result.action }),
      el("span", { class: "result-summary", text: result.summary ?? "" }),
      result.exit_code != null && result.exit_code !== 0 ? el("span", { class: "result-exit", text: t("result.exit", { code: result.exit_code }) }) : null,
      el("span", { class: "result-duration", text: formatDuration(result.duration_ms) }),
    ]),
    result.output_tail
      ? el("details", { class: "result-output", data: { fold: `${result.node}/${result.action}` } }, [
          el("summary", { text: t("result.output", { lines }) }),
          el("pre", { text: result.output_tail }),
        ])
      : null,
  ]);
}

export function resultCard(ctx, frame) {
  const results = frame.results ?? [];
  const ok = results.filter((r) => r.ok).length;
  const tone = STATUS_TONE[frame.status] ?? "neutral";
  return el("section", { class: `card card-result tone-${tone}`, data: { task: frame.task_id, kind: "result", status: frame.status } }, [
    cardHead(tone === "ok" ? "✓" : tone === "bad" ? "✕" : "■", t("result.title"), frame.task_id, [
      results.length ? el("span", { class: "result-count", text: t("result.summary", { ok, total: results.length }) }) : null,
      statusPill(frame.status),
    ]),
    frame.content ? el("p", { class: "card-text", text: frame.content }) : null,
    results.length ? el("div", { class: "results" }, results.map(resultRow)) : null,
  ]);
}

export function errorCard(ctx, frame) {
  const sent = frame.ref ? ctx.store.chatsSent.get(frame.ref) : null;
  const refers = sent ? t("msg.refers", { content: sent.content }) : null;
  return el("section", { class: "card card-error", data: { kind: "error", code: frame.code, ref: frame.ref ?? null } }, [
    cardHead("!", t("error.title", { code: frame.code }), null),
    el("p", { class: "card-text", text: frame.message ?? frame.content ?? "" }),
    refers ? el("p", { class: "card-ref", text: refers }) : null,
  ]);
}
