// The command plan card and the approval request card, drawn from the plan, the task's
// state and the reader's roles: the same card reads in Korean or English to each reader.

import { buttonRow } from "./buttons.js";
import { artifactList, cardHead, planFields, planHeadline, statusPill } from "./cards.js";
import { el } from "./dom.js";
import { feedbackRow } from "./feedback.js";
import { formatDateTime, t } from "./i18n.js";
import { mayCancel } from "./roles.js";
import { outcomeLine, taskProgress } from "./task_cards.js";

/** Approve/Reject as the task's state has settled them (null while still open). */
function approvalSettled(task, button) {
  if (!task || !["APPROVE", "REJECT"].includes(button.command_code)) return null;
  const status = task.status;
  if (status === "PENDING_APPROVAL" || status === "QUEUED") {
    const expires = Date.parse(task.expiresAt ?? "");
    return Number.isFinite(expires) && expires <= Date.now() ? { state: "expired" } : null;
  }
  if (status === "EXPIRED") return { state: "expired" };
  if (status === "REJECTED") return button.command_code === "REJECT" ? { state: "used", by: task.actor } : { state: "closed" };
  const approved = task.approvedBy !== null || task.started || !["CANCELLED", "FAILED"].includes(status);
  if (!approved) return { state: "closed" };
  return button.command_code === "APPROVE" ? { state: "used", by: task.approvedBy } : { state: "closed" };
}

/** A decision line: who approved or rejected, when known. */
function decisionLine(task) {
  if (task?.approvedBy) return el("p", { class: "decision", data: { decision: "APPROVED" }, text: t("decision.APPROVED", { user: task.approvedBy }) });
  if (task?.status === "REJECTED" && task.actor) return el("p", { class: "decision", data: { decision: "REJECTED" }, text: t("decision.REJECTED", { user: task.actor }) });
  return null;
}

export function planCard(ctx, frame) {
  const task = ctx.store.tasks.get(frame.task_id);
  const requester = task ? ctx.store.requesterOf(task) : frame.requested_by ?? null;
  const badge = frame.requires_approval
    ? el("span", { class: "badge badge-warn", text: t("plan.needsApproval") })
    : el("span", { class: "badge badge-ok", text: t("plan.runsNow") });
  // Cancel: for the requester, approvers and admins in scope, and only while it can still stop
  const visible = (button) =>
    button.command_code !== "CANCEL_TASK" || (!task?.isFinal && mayCancel(ctx.store.me, { requestedBy: requester, plan: frame.plan }));
  if (task?.expiresAt) ctx.remindAt?.(Date.parse(task.expiresAt));
  return el("section", { class: "card card-plan", data: { task: frame.task_id, kind: "plan" } }, [
    cardHead("▤", t("plan.title"), frame.task_id, [badge, task ? statusPill(task.status) : null]),
    el("div", { class: "card-lead", text: planHeadline(frame.plan, task?.systemLabel ?? frame.system_label) }),
    el("div", { class: "fields" }, planFields(frame.plan, task?.artifacts ?? frame.artifacts ?? [])),
    requester ? el("div", { class: "card-meta" }, [el("span", { class: "requester", text: t("plan.requestedBy", { user: requester }) })]) : null,
    outcomeLine(task),
    taskProgress(task),
    buttonRow(ctx, frame, frame.interactive_actions, { visible }),
    feedbackRow(ctx, frame),
  ]);
}

function approvalButtons(ctx, frame, task) {
  const open = !task || task.status === "PENDING_APPROVAL";
  if (frame.requested_by === ctx.store.me?.user) return open ? el("p", { class: "card-note", text: t("approval.own") }) : null;
  if (!ctx.store.mayApprove(frame.plan)) return open ? el("p", { class: "card-note", text: t("approval.wait") }) : null;
  return buttonRow(ctx, frame, frame.interactive_actions, { derive: (button) => approvalSettled(task, button) });
}

/** What became of an approval request, from its task's status. */
function decision(task) {
  const status = task?.status ?? "PENDING_APPROVAL";
  if (["PENDING_APPROVAL", "REJECTED", "EXPIRED"].includes(status)) return status;
  if (status === "QUEUED") return "PENDING_APPROVAL";
  if (status === "CANCELLED" && !task.started && !task.approvedBy) return "CANCELLED";
  return "APPROVED";
}

export function approvalCard(ctx, frame) {
  const task = ctx.store.tasks.get(frame.task_id);
  const status = decision(task);
  const open = status === "PENDING_APPROVAL";
  const artifacts = task?.artifacts?.length ? task.artifacts : frame.artifacts ?? [];
  const expires = formatDateTime(frame.expires_at);
  if (open) ctx.remindAt?.(Date.parse(frame.expires_at));
  return el("section", { class: `card card-approval${open ? " is-open" : ""}`, data: { task: frame.task_id, kind: "approval", status } }, [
    cardHead("⚑", t("approval.title"), frame.task_id, [statusPill(status)]),
    el("div", { class: "card-lead", text: planHeadline(frame.plan, task?.systemLabel ?? frame.system_label) }),
    el("p", { class: "card-text approval-lead", text: t("approval.lead", { user: frame.requested_by, time: expires }) }),
    el("div", { class: "fields" }, planFields(frame.plan)),
    artifacts.length ? el("div", { class: "approval-files" }, [el("p", { class: "card-note", text: t("approval.exact") }), artifactList(artifacts)]) : null,
    el("div", { class: "card-meta" }, [
      el("span", { text: t("approval.by", { user: frame.requested_by }) }),
      el("span", { text: t("approval.expires", { time: expires }), title: frame.expires_at }),
    ]),
    decisionLine(task),
    approvalButtons(ctx, frame, task),
  ]);
}
