// The operations view, for admins and approvers: agents online or not with their last
// heartbeat and version, the task queue and stuck tasks, open incidents, and charts of the
// last hours. Everything comes from GET /api/ops/overview (scoped to the reader by the hub),
// asked again every `refresh_seconds` (well inside one heartbeat interval) while it is open.

import { fetchOverview } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { formatNumber, formatTime, label, t } from "./i18n.js";
import { chart } from "./ops_charts.js";

/** Whether the signed-in user may open the view (the hub checks again). */
export function mayOperate(me) {
  return (me?.roles ?? []).some((role) => ["admin", "approver"].includes(role.split(":", 1)[0]));
}

function ago(seconds) {
  if (seconds == null) return t("ops.never");
  if (seconds < 120) return t("ops.secondsAgo", { n: Math.round(seconds) });
  if (seconds < 7200) return t("ops.minutesAgo", { n: Math.round(seconds / 60) });
  return t("ops.hoursAgo", { n: (seconds / 3600).toFixed(1) });
}

function ms(seconds) {
  return seconds == null ? "–" : `${formatNumber(Math.round(seconds * 1000))} ms`;
}

function table(headers, rows, empty) {
  if (!rows.length) return el("p", { class: "ops-empty", text: empty });
  return el("table", { class: "ops-table" }, [
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))),
    el("tbody", {}, rows),
  ]);
}

export class OpsView {
  constructor(token) {
    this.token = token;
    this.app = document.getElementById("app");
    this.root = document.getElementById("ops-view");
    this.body = document.getElementById("ops-body");
    this.stamp = document.getElementById("ops-stamp");
    this.button = document.getElementById("ops-open");
    this.data = null;
    this.error = null;
    this.timer = null;
    this.button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    document.getElementById("ops-close").addEventListener("click", () => this.close());
  }

  get isOpen() {
    return this.app.dataset.view === "ops";
  }

  /** Show the sidebar's button to those who may open the view. */
  setMe(me) {
    this.button.hidden = !mayOperate(me);
    if (this.button.hidden && this.isOpen) this.close();
  }

  open() {
    this.app.dataset.view = "ops";
    this.button.setAttribute("aria-pressed", "true");
    this.render();
    this.refresh();
  }

  close() {
    delete this.app.dataset.view;
    this.button.setAttribute("aria-pressed", "false");
    clearTimeout(this.timer);
    this.timer = null;
  }

  async refresh() {
    clearTimeout(this.timer);
    try {
      this.data = await fetchOverview(this.token);
      this.error = null;
    } catch (error) {
      this.error = error;
    }
    if (!this.isOpen) return;
    this.render();
    const every = Math.max(1, Number(this.data?.refresh_seconds) || 5);
    this.timer = setTimeout(() => this.refresh(), every * 1000);
  }

  render() {
    if (!this.isOpen) return;
    const data = this.data;
    this.stamp.textContent = data ? t("ops.updated", { time: formatTime(data.generated_at) }) : t("timeline.loading");
    const error = this.error ? el("p", { class: "ops-error", attrs: { role: "alert" }, text: t("ops.error", { message: this.error.message }) }) : null;
    if (!data) {
      replaceChildren(this.body, error);
      return;
    }
    replaceChildren(this.body, [error, this.summary(data), this.charts(data.charts), this.agents(data), this.queue(data.tasks), this.incidents(data.incidents)]);
  }

  summary(data) {
    const online = data.agents.filter((a) => a.state === "online").length;
    const queued = data.tasks.queue.length;
    const tiles = [
      ["agents", t("ops.tile.agents"), `${online} / ${data.agents.length}`],
      ["queue", t("ops.tile.queue"), formatNumber(queued)],
      ["stuck", t("ops.tile.stuck"), formatNumber(data.tasks.stuck)],
      ["approvals", t("ops.tile.approvals"), formatNumber(data.approvals_pending)],
      ["incidents", t("ops.tile.incidents"), data.incidents == null ? "–" : formatNumber(data.incidents.length)],
    ];
    return el("div", { class: "ops-tiles" }, tiles.map(([key, name, value]) =>
      el("div", { class: "ops-tile", data: { tile: key } }, [el("span", { class: "ops-tile-value", text: value }), el("span", { class: "ops-tile-name", text: name })]),
    ));
  }

  agents(data) {
    const rows = data.agents.map((agent) =>
      el("tr", { class: "ops-agent", data: { agent: agent.agent_id, state: agent.state } }, [
        el("td", { class: "mono", text: agent.agent_id }),
        el("td", {}, el("span", { class: `ops-state ops-state-${agent.state}`, text: label("ops.state", agent.state) })),
        el("td", { title: agent.last_heartbeat ?? "", text: ago(agent.heartbeat_age_seconds) }),
        el("td", { class: "mono", text: agent.version ?? "–" }),
        el("td", { class: "mono", text: agent.systems.join(" ") || "–" }),
      ]),
    );
    const headers = [t("ops.col.agent"), t("ops.col.state"), t("ops.col.heartbeat"), t("ops.col.version"), t("ops.col.systems")];
    return el("section", { class: "ops-section", data: { section: "agents" } }, [
      el("h2", { text: t("ops.agents", { seconds: formatNumber(data.heartbeat_interval) }) }),
      table(headers, rows, t("ops.noAgents")),
    ]);
  }

  queue(tasks) {
    const rows = tasks.queue.map((task) =>
      el("tr", { class: `ops-task${task.stuck ? " is-stuck" : ""}`, data: { task: task.task_id, status: task.status, stuck: task.stuck } }, [
        el("td", { class: "mono", text: task.task_id }),
        el("td", { text: label("status", task.status) }),
        el("td", { class: "mono", text: task.agent_id ?? "–" }),
        el("td", { text: task.requested_by }),
        el("td", { text: [task.intent ? label("intent", task.intent) : null, task.system].filter(Boolean).join(" · ") }),
        el("td", { text: ago(task.idle_seconds) }),
        el("td", {}, task.stuck ? el("span", { class: "ops-stuck", text: t("ops.stuck") }) : null),
      ]),
    );
    const headers = [t("ops.col.task"), t("ops.col.status"), t("ops.col.agent"), t("ops.col.requester"), t("ops.col.what"), t("ops.col.changed"), ""];
    return el("section", { class: "ops-section", data: { section: "queue" } }, [
      el("h2", { text: t("ops.queue") }),
      table(headers, rows, t("ops.noTasks")),
    ]);
  }

  incidents(incidents) {
    if (incidents == null) return null; // this hub has no incident intake
    const rows = incidents.map((incident) =>
      el("tr", { class: "ops-incident", data: { incident: incident.alert_id, state: incident.state } }, [
        el("td", { text: incident.title }),
        el("td", { text: incident.severity }),
        el("td", { text: incident.state }),
        el("td", { class: "mono", text: [incident.system, incident.node].filter(Boolean).join(" ") || "–" }),
        el("td", { text: formatNumber(incident.occurrences) }),
      ]),
    );
    const headers = [t("ops.col.incident"), t("ops.col.severity"), t("ops.col.state"), t("ops.col.where"), t("ops.col.count")];
    return el("section", { class: "ops-section", data: { section: "incidents" } }, [
      el("h2", { text: t("ops.incidents") }),
      table(headers, rows, t("ops.noIncidents")),
    ]);
  }

  charts(series) {
    const precision = series.suggestions.map((s) => s.precision);
    const minutes = Math.round(series.bucket_seconds / 60);
    const last = (values) => [...values].reverse().find((v) => v != null);
    const box = (key, title, note, svg) =>
      el("figure", { class: "ops-figure", data: { chart: key } }, [el("figcaption", {}, [el("strong", { text: title }), el("span", { text: note })]), svg]);
    const p50 = last(series.latency_p50_seconds);
    const p99 = last(series.latency_p99_seconds);
    const shown = last(precision);
    return el("section", { class: "ops-section ops-charts", data: { section: "charts" } }, [
      el("h2", { text: t("ops.charts", { hours: Math.round((series.buckets.length * series.bucket_seconds) / 3600), minutes }) }),
      el("div", { class: "ops-figures" }, [
        box("commands", t("ops.chart.commands"), t("ops.chart.now", { value: formatNumber(last(series.commands_per_minute) ?? 0) }),
          chart({ title: t("ops.chart.commands"), series: [{ name: "commands", kind: "bars", values: series.commands_per_minute }] })),
        box("latency", t("ops.chart.latency"), `p50 ${ms(p50)} · p99 ${ms(p99)}`,
          chart({ title: t("ops.chart.latency"), series: [
            { name: "p50", kind: "line", values: series.latency_p50_seconds },
            { name: "p99", kind: "line", values: series.latency_p99_seconds },
          ] })),
        box("precision", t("ops.chart.precision"), shown == null ? t("ops.chart.noSuggestions") : `${Math.round(shown * 100)}%`,
          chart({ title: t("ops.chart.precision"), max: 1, series: [{ name: "precision", kind: "line", values: precision }] })),
      ]),
    ]);
  }
}
