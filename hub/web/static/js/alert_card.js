// An incident's card (issue 11): one per alert_id, where its first ALERT sits, showing the
// newest ALERT's state. A later ALERT with the same id redraws this card instead of adding one.

import { buttonRow } from "./buttons.js";
import { cardHead, field } from "./cards.js";
import { el } from "./dom.js";
import { formatDate, formatDateTime, formatTime, label, lang, t, tn } from "./i18n.js";

const STATUS_TONE = { firing: "bad", acknowledged: "warn", resolved: "ok" };
const SEVERITIES = new Set(["LOW", "MEDIUM", "HIGH", "CRITICAL"]);

// a card's diagnostics may be run again and again while the incident is open
const DIAGNOSTICS = new Set(["SERVICE_STATUS", "FETCH_DB_LOCKS", "TAIL_LOG"]);

/** Whether a task for this diagnostic on this node began after our press and has ended. */
function pressAnswered(ctx, alert, button) {
  const own = ctx.store.button(button.action_id);
  if (own.state !== "pressed" || own.since == null) return false;
  for (const task of ctx.store.tasks.values()) {
    if (task.roomId !== alert.room_id || !task.isFinal || !(task.anchorSeq > own.since)) continue;
    const rows = task.finished?.results ?? [];
    if (rows.some((row) => row.action === button.command_code && row.node === alert.asset_code)) return true;
  }
  return false;
}

/** Buttons an incident's state has settled: who acknowledged it, nothing to restart once
 * resolved; a diagnostic whose run has ended is ready to run again. */
function alertSettled(ctx, alert, button) {
  const code = button.command_code;
  if (code === "ACK_ALERT") {
    if (alert.status === "acknowledged") return { state: "used", by: alert.acknowledged_by ?? null };
    if (alert.status === "resolved") return { state: "closed" };
  }
  if (code === "RESTART_SERVICE" && alert.status === "resolved") return { state: "closed" };
  if (DIAGNOSTICS.has(code) && pressAnswered(ctx, alert, button)) return { state: "idle" };
  return null;
}

function statusPill(status) {
  return el("span", { class: `pill pill-${STATUS_TONE[status] ?? "neutral"}`, text: label("alert.status", status), data: { status } });
}

function severityBadge(severity) {
  if (!SEVERITIES.has(severity)) return null;
  return el("span", { class: `badge badge-sev-${severity.toLowerCase()}`, text: label("alert.severity", severity), data: { severity } });
}

function seen(alert) {
  const count = Number.isInteger(alert.occurrences) && alert.occurrences > 0 ? alert.occurrences : 1;
  const first = alert.first_seen ? formatTime(alert.first_seen) : "";
  const last = alert.last_seen ? formatTime(alert.last_seen) : "";
  const span = first && last && first !== last ? t("alert.span", { first, last }) : first || last;
  return [
    el("span", { class: "alert-count", text: tn("alert.occurrences", count), data: { count } }),
    span ? el("span", { class: "alert-span", text: span, title: `${formatDateTime(alert.first_seen)} – ${formatDateTime(alert.last_seen)}` }) : null,
  ];
}

const FIXES = new Set(["RESTART_SERVICE", "SERVICE_STATUS", "HEALTH_CHECK"]);

/** How the earlier incident ended, worded from its structured fields; null when they say
 * nothing this app knows (its `resolution` text, in the earlier incident's language, then). */
function fixWords(similar) {
  if (similar.resolved_by === "alert") return t("alert.fix.alert");
  if (similar.resolved_by === "task" && FIXES.has(similar.action)) {
    return t(`alert.fix.${similar.action}`, { node: similar.node ?? similar.asset_code ?? "" }).trim();
  }
  return null;
}

function similarLine(similar) {
  if (!similar || typeof similar !== "object" || !similar.at) return null;
  const worded = fixWords(similar);
  const fix = worded ?? similar.resolution ?? "";
  if (!fix) return null;
  // a task's fix names its node; otherwise the earlier incident's node goes with the date
  const asset = worded && similar.resolved_by === "task" ? null : similar.asset_code;
  const at = formatDate(similar.at);
  return el("p", {
    class: "alert-similar",
    text: asset ? t("alert.similarAt", { at, asset, fix }) : t("alert.similar", { at, fix }),
    data: { similarTo: similar.alert_id ?? null, resolvedBy: similar.resolved_by ?? null, action: similar.action ?? null },
  });
}

/** The LLM's reading of the incident, in the reader's language: marked as such, plain text. */
function causeLine(cause) {
  if (!cause || typeof cause !== "object") return null;
  const text = cause[lang()] ?? cause.en ?? cause.ko;
  if (typeof text !== "string" || !text) return null;
  return el("p", { class: "alert-cause" }, [el("span", { class: "alert-cause-label", text: t("alert.cause") }), " ", text]);
}

/** The body of the first ALERT of an incident; later ones render nothing by themselves. */
export function alertCard(ctx, frame) {
  const view = ctx.store.alerts.get(frame.alert_id);
  if (!view || view.anchorSeq !== frame.seq) return null;
  const alert = view.latest;
  const status = STATUS_TONE[alert.status] ? alert.status : "firing";
  return el("section", { class: `card card-alert tone-${STATUS_TONE[status]}`, data: { kind: "alert", alert: alert.alert_id, status, severity: alert.severity ?? null, latestSeq: alert.seq } }, [
    cardHead("⚠", t("alert.title"), null, [severityBadge(alert.severity), statusPill(status)]),
    el("div", { class: "card-lead alert-title", text: alert.title ?? "" }),
    alert.summary ? el("p", { class: "card-text alert-summary", text: alert.summary }) : null,
    el("div", { class: "fields" }, [
      alert.asset_code ? field(t("alert.asset"), [el("code", { class: "chip", text: alert.asset_code })]) : null,
      alert.source ? field(t("alert.source"), [el("span", { text: alert.source })]) : null,
      field(t("alert.seen"), seen(alert)),
    ]),
    similarLine(alert.similar),
    causeLine(alert.probable_cause),
    buttonRow(ctx, alert, alert.interactive_actions, { derive: (button) => alertSettled(ctx, { ...alert, status }, button) }),
  ]);
}
