// A task's live progress, its outcome, and its result card. Nodes always appear in one
// order (the plan's targets): the progress shows them while the task runs, the result card
// once it has ended, never both.

import { STATUS_TONE, actionChip, cardHead, statusPill } from "./cards.js";
import { el, progressBar } from "./dom.js";
import { feedbackRow } from "./feedback.js";
import { formatDuration, label, t } from "./i18n.js";
import { resultFacts } from "./result_data.js";

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

const PHASE_TONE = { idle: "idle", running: "run", done: "ok", failed: "bad" };
const PHASE_WORD = { running: "task.running", done: "task.done", failed: "task.failed" };

function nodeRow(name, node) {
  const word = PHASE_WORD[node.phase];
  return el("div", { class: `node-row node-${PHASE_TONE[node.phase] ?? "idle"}`, data: { node: name, phase: node.phase } }, [
    el("code", { class: "node-name", text: name }),
    progressBar(node.progress, "bar bar-node"),
    el("span", {
      class: "node-step",
      text: word ? t(word, { action: label("action", node.step) }) : t("task.waiting"),
      title: node.message || null,
    }),
  ]);
}

/** Progress of a task the agent got: one bar overall, while it runs one per node. */
export function taskProgress(task) {
  if (!task?.started) return null;
  const rows = task.isFinal ? [] : task.nodeOrder().map((name) => nodeRow(name, task.node(name)));
  return el("div", { class: "progress", data: { task: task.taskId, status: task.status } }, [
    el("div", { class: "progress-overall" }, [
      el("span", { class: "progress-label", text: t("task.overall") }),
      progressBar(task.progress, "bar bar-overall"),
      el("span", { class: "progress-percent", text: percent(task.progress) }),
    ]),
    rows.length ? el("div", { class: "node-rows" }, rows) : null,
  ]);
}

/** Why a task ended, in a sentence: from its reason and who ended it. */
export function reasonText(reason, actor) {
  if (!reason) return null;
  if (actor && (reason === "REJECTED" || reason === "CANCELLED")) return t(`reasonBy.${reason}`, { user: actor });
  return label("reason", reason);
}

/** A task that ended before the agent ran anything: its status and why, no progress. */
export function outcomeLine(task) {
  if (!task?.isFinal || task.started) return null;
  const why = reasonText(task.reason, task.actor);
  return el("div", { class: "outcome", data: { status: task.status } }, [statusPill(task.status), why ? el("span", { class: "outcome-text", text: why }) : null]);
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
  const facts = resultFacts(result);
  const lines = (result.output_tail ?? "").split("\n").filter((line) => line !== "").length;
  const tone = !result.ok ? "is-bad" : facts.tone === "warn" ? "is-ok is-warn" : "is-ok";
  return el("div", { class: `result-row ${tone}`, data: { node: result.node, action: result.action, structured: facts.structured ? "true" : null } }, [
    el("div", { class: "result-line" }, [
      el("span", { class: "result-mark", text: result.ok ? "✓" : "✕", attrs: { "aria-label": result.ok ? "ok" : "failed" } }),
      actionChip(result.action),
      el("span", { class: "result-summary", text: facts.summary, title: facts.structured && result.summary ? result.summary : null }),
      result.exit_code != null && result.exit_code !== 0 ? el("span", { class: "result-exit", text: t("result.exit", { code: result.exit_code }) }) : null,
      el("span", { class: "result-duration", text: formatDuration(result.duration_ms) }),
    ]),
    facts.detail ? el("div", { class: "result-detail" }, [facts.detail]) : null,
    result.output_tail
      ? el("details", { class: "result-output", data: { fold: `${result.node}/${result.action}` } }, [
          el("summary", { text: t("result.output", { lines }) }),
          el("pre", { text: result.output_tail }),
        ])
      : null,
  ]);
}

/** Results under one heading per node, nodes in the task's order. */
function resultGroups(results) {
  const groups = new Map();
  for (const result of results) {
    if (!groups.has(result.node)) groups.set(result.node, []);
    groups.get(result.node).push(result);
  }
  return [...groups].map(([node, rows]) =>
    el("div", { class: `result-node ${rows.every((r) => r.ok) ? "is-ok" : "is-bad"}`, data: { node } }, [
      el("code", { class: "node-name result-node-name", text: node }),
      el("div", { class: "result-rows" }, rows.map(resultRow)),
    ]),
  );
}

export function resultCard(ctx, frame) {
  const task = ctx.store.tasks.get(frame.task_id);
  const results = task ? task.orderedResults(frame.results ?? []) : frame.results ?? [];
  const ok = results.filter((r) => r.ok).length;
  const tone = STATUS_TONE[frame.status] ?? "neutral";
  const reason = frame.reason ?? task?.reason ?? null;
  const why = reasonText(reason, frame.actor ?? task?.actor ?? null);
  // the hub's sentence is shown only when nothing structured says why (and then as its note)
  const note = !why && !results.length && frame.content ? t("result.detail", { text: frame.content }) : null;
  return el("section", { class: `card card-result tone-${tone}`, data: { task: frame.task_id, kind: "result", status: frame.status, reason } }, [
    cardHead(tone === "ok" ? "✓" : tone === "bad" ? "✕" : "■", t("result.title"), frame.task_id, [
      results.length ? el("span", { class: "result-count", text: t("result.summary", { ok, total: results.length }) }) : null,
      statusPill(frame.status),
    ]),
    why ? el("p", { class: "card-text result-reason", text: why }) : null,
    note ? el("p", { class: "card-note result-note", text: note }) : null,
    results.length ? el("div", { class: "results" }, resultGroups(results)) : why || note ? null : el("p", { class: "card-note", text: t("result.none") }),
    results.length ? feedbackRow(ctx, frame) : null,
  ]);
}
