// What one action found, told from the structured `data` an agent puts on its result
// (disk rows, lock waits, a service's state), in the reader's language. One renderer per
// action in a table; a result without data, or with data of another shape, keeps the
// agent's own summary.

import { el } from "./dom.js";
import { formatBytes, formatKilobytes, formatNumber, t, tn } from "./i18n.js";

const DEFAULT_DISK_THRESHOLD = 90;

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isNumber = (value) => typeof value === "number" && Number.isFinite(value);
const text = (value) => (value == null ? "" : String(value));

/** A table that scrolls sideways inside its card instead of widening it. */
function table(className, head, rows) {
  return el("div", { class: "table-scroll" }, [
    el("table", { class: `data-table ${className}` }, [
      el("thead", {}, [el("tr", {}, head.map((cell) => el("th", { text: cell.text, class: cell.class ?? null })))]),
      el("tbody", {}, rows),
    ]),
  ]);
}

function diskSpace(data) {
  const rows = data.filesystems;
  if (!Array.isArray(rows) || !rows.every(isObject)) return null;
  const threshold = isNumber(data.threshold) ? data.threshold : DEFAULT_DISK_THRESHOLD;
  const full = rows.filter((row) => isNumber(row.use_percent) && row.use_percent >= threshold).length;
  const summary = full
    ? tn("disk.summary", rows.length, { full: formatNumber(full), threshold })
    : tn("disk.summaryOk", rows.length, { threshold });
  const num = "num";
  const detail = table(
    "disk-table",
    [
      { text: t("disk.mount") },
      { text: t("disk.device") },
      { text: t("disk.size"), class: num },
      { text: t("disk.used"), class: num },
      { text: t("disk.avail"), class: num },
      { text: t("disk.percent"), class: num },
    ],
    rows.map((row) => {
      const over = isNumber(row.use_percent) && row.use_percent >= threshold;
      return el("tr", { class: over ? "is-full" : null, data: { mount: text(row.mount), full: over ? "true" : null } }, [
        el("td", {}, [el("code", { text: text(row.mount) })]),
        el("td", {}, [el("code", { class: "soft", text: text(row.device) })]),
        el("td", { class: num, text: isNumber(row.size_kb) ? formatKilobytes(row.size_kb) : "" }),
        el("td", { class: num, text: isNumber(row.used_kb) ? formatKilobytes(row.used_kb) : "" }),
        el("td", { class: num, text: isNumber(row.avail_kb) ? formatKilobytes(row.avail_kb) : "" }),
        el("td", { class: `${num} percent`, text: isNumber(row.use_percent) ? `${row.use_percent}%` : "" }),
      ]);
    }),
  );
  return { summary, detail, tone: full ? "warn" : null };
}

function seconds(value) {
  return isNumber(value) ? formatNumber(Math.round(value * 10) / 10) : "";
}

function session(pid, user) {
  return [el("code", { text: text(pid) }), user ? el("span", { class: "soft", text: ` ${user}` }) : null];
}

function query(word, pid, sql) {
  return el("div", { class: "query" }, [el("span", { class: "query-label", text: `${word} ${text(pid)}` }), el("code", { text: text(sql) })]);
}

function dbLocks(data) {
  const waits = data.waits;
  if (!Array.isArray(waits) || !waits.every(isObject)) return null;
  const kind = text(data.kind) || "DB";
  if (!waits.length) return { summary: t("locks.none", { kind }), detail: null, tone: null };
  const longest = Math.max(0, ...waits.map((w) => (isNumber(w.wait_seconds) ? w.wait_seconds : 0)));
  const rows = waits.map((wait) =>
    el("tr", { class: "lock-row" }, [
      el("td", {}, session(wait.blocked_pid, wait.blocked_user)),
      el("td", {}, session(wait.blocking_pid, wait.blocking_user)),
      el("td", {}, [el("code", { text: text(wait.database) })]),
      el("td", { class: "num", text: seconds(wait.wait_seconds) ? `${seconds(wait.wait_seconds)} s` : "" }),
      el("td", {}, [el("code", { class: "soft", text: text(wait.wait_event) })]),
    ]),
  );
  // queries are long: below the table, wrapping to the card's width, each under its pids
  const queries = waits.map((wait) =>
    el("div", { class: "lock-queries" }, [
      query(t("locks.blockedQuery"), wait.blocked_pid, wait.blocked_query),
      query(t("locks.blockingQuery"), wait.blocking_pid, wait.blocking_query),
    ]),
  );
  const detail = el("div", { class: "lock-detail" }, [
    table(
      "lock-table",
      [{ text: t("locks.blocked") }, { text: t("locks.blocking") }, { text: t("locks.database") }, { text: t("locks.wait"), class: "num" }, { text: t("locks.event") }],
      rows,
    ),
    ...queries,
  ]);
  return { summary: tn("locks.summary", waits.length, { kind, seconds: seconds(longest) }), detail, tone: "warn" };
}

function serviceStatus(data) {
  if (typeof data.healthy !== "boolean") return null;
  const vars = { service: text(data.service), state: text(data.state) };
  return { summary: t(data.healthy ? "service.healthy" : "service.unhealthy", vars), detail: null, tone: data.healthy ? null : "bad" };
}

function healthCheck(data) {
  if (typeof data.healthy !== "boolean") return null;
  const parts = [t(data.healthy ? "health.healthy" : "health.unhealthy", { service: text(data.service) })];
  if (isNumber(data.status_code)) parts.push(t("health.code", { code: data.status_code }));
  if (isNumber(data.attempts) && data.attempts > 1) parts.push(tn("health.attempts", data.attempts));
  const detail = data.url ? el("code", { class: "result-url", text: text(data.url), title: text(data.url) }) : null;
  return { summary: parts.join(" · "), detail, tone: data.healthy ? null : "bad" };
}

function restart(data) {
  if (typeof data.restarted !== "boolean") return null;
  return { summary: t(data.restarted ? "restart.done" : "restart.failed", { service: text(data.service) }), detail: null, tone: null };
}

function tailLog(data) {
  if (!data.path) return null;
  return { summary: t("log.lines", { path: text(data.path), lines: isNumber(data.lines) ? formatNumber(data.lines) : "?" }), detail: null, tone: null };
}

function deploy(data) {
  if (!data.filename) return null;
  const vars = { filename: text(data.filename), size: isNumber(data.size) ? formatBytes(data.size) : "?", path: text(data.path) };
  const sha = data.sha256 ? el("code", { class: "artifact-sha", text: t("artifact.sha", { sha: String(data.sha256).slice(0, 12) }), title: String(data.sha256) }) : null;
  return { summary: t(data.rolled_back ? "deploy.rolledBack" : "deploy.done", vars), detail: sha, tone: data.rolled_back ? "bad" : null };
}

function rollback(data) {
  if (!data.filename) return null;
  return { summary: t(data.restored === false ? "rollback.failed" : "rollback.done", { filename: text(data.filename) }), detail: null, tone: null };
}

/** action -> renderer(data) -> {summary, detail, tone} or null for a shape it does not know. */
export const RESULT_DATA = {
  CHECK_DISK_SPACE: diskSpace,
  FETCH_DB_LOCKS: dbLocks,
  SERVICE_STATUS: serviceStatus,
  HEALTH_CHECK: healthCheck,
  RESTART_SERVICE: restart,
  TAIL_LOG: tailLog,
  DEPLOY_ARTIFACT: deploy,
  ROLLBACK_DEPLOY: rollback,
};

/** What a result says: from its data when there is a renderer for it, else the agent's summary. */
export function resultFacts(result) {
  const render = RESULT_DATA[result.action];
  if (render && isObject(result.data)) {
    try {
      const facts = render(result.data);
      if (facts) return { ...facts, structured: true };
    } catch {
      // a shape this app does not know: the summary says it as the agent put it
    }
  }
  return { summary: result.summary ?? "", detail: null, tone: null, structured: false };
}
