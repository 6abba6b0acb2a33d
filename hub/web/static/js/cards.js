// Parts every card is built from: its head, status pills, labelled fields, a plan's targets
// and steps, the files a plan deploys, and an error code told as a sentence. All words come
// from the reader's strings; codes from the network show as themselves when they have none.

import { el } from "./dom.js";
import { formatBytes, has, label, t } from "./i18n.js";

export const STATUS_TONE = {
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

export function statusPill(status) {
  return el("span", { class: `pill pill-${STATUS_TONE[status] ?? "neutral"}`, text: label("status", status), data: { status } });
}

export function cardHead(icon, title, taskId, extra = []) {
  return el("div", { class: "card-head" }, [
    el("span", { class: "card-icon", text: icon, attrs: { "aria-hidden": "true" } }),
    el("span", { class: "card-title", text: title }),
    taskId ? el("code", { class: "task-id", text: taskId }) : null,
    el("span", { class: "card-head-fill" }),
    ...extra,
  ]);
}

export function field(name, value) {
  return el("div", { class: "field" }, [el("span", { class: "field-name", text: name }), el("span", { class: "field-value" }, value)]);
}

/** An action as a chip: its name in the reader's language, its code on hover and in data. */
export function actionChip(action, className = "step") {
  return el("code", { class: className, text: label("action", action), title: action, data: { code: action } });
}

/** "MOF/BUDGET WAS 상태 확인" / "Status check · MOF/BUDGET WAS", from the plan alone. */
export function planHeadline(plan, systemLabel = null) {
  if (!plan) return "";
  const code = `${plan.institution}/${plan.system_name}`;
  const system = systemLabel ? `${systemLabel} (${plan.system_name})` : code;
  // a DB lock check names its layer already: "DB 락 조회", never "DB DB 락 조회"
  const named = plan.intent_type === "DB_LOCK_CHECK" && plan.infrastructure_layer === "DB";
  const layer = plan.infrastructure_layer && !named ? ` ${plan.infrastructure_layer}` : "";
  return t("plan.headline", { intent: label("intent", plan.intent_type), system, layer });
}

/** The files a deploy ships, each with what the approver approves: size, hash, uploader. */
export function artifactList(artifacts) {
  return el(
    "ul",
    { class: "artifacts" },
    artifacts.map((artifact) =>
      el("li", { class: "artifact", data: { sha256: artifact.sha256 ?? null } }, [
        el("code", { class: "chip chip-file", text: artifact.filename }),
        Number.isFinite(artifact.size) ? el("span", { class: "artifact-size", text: formatBytes(artifact.size) }) : null,
        artifact.sha256
          ? el("code", { class: "artifact-sha", text: t("artifact.sha", { sha: artifact.sha256.slice(0, 12) }), title: artifact.sha256 })
          : null,
        artifact.uploaded_by ? el("span", { class: "artifact-by", text: t("artifact.uploadedBy", { user: artifact.uploaded_by }) }) : null,
      ]),
    ),
  );
}

export function planFields(plan, artifacts = []) {
  if (!plan) return [];
  const targets = (plan.target_nodes ?? []).map((node) => el("code", { class: "chip", text: node }));
  const steps = (plan.action_sequence ?? []).flatMap((step, i) => [
    i ? el("span", { class: "arrow", text: "→", attrs: { "aria-hidden": "true" } }) : null,
    actionChip(step),
  ]);
  const files = artifacts.length
    ? artifactList(artifacts)
    : (plan.deploy_artifacts ?? []).map((name) => el("code", { class: "chip chip-file", text: name }));
  return [
    field(t("plan.targets"), targets),
    field(t("plan.steps"), steps),
    (Array.isArray(files) ? files.length : true) ? field(t("plan.files"), files) : null,
  ];
}

/** An error code told as a sentence in the reader's language. */
export function errorSentence(code) {
  return has(`error.${code}`) ? t(`error.${code}`) : t("error.other", { code });
}

/** A refusal beside what it refused: the sentence, then the hub's own words in small. */
export function errorNote(error) {
  return el("div", { class: "action-error", data: { code: error.code }, attrs: { role: "alert" } }, [
    el("strong", { class: "error-sentence", text: errorSentence(error.code) }),
    error.message ? el("span", { class: "error-detail", text: error.message }) : null,
  ]);
}
