// Stored room frames to timeline items: who said it and when, around a text or a card.
// One renderer per msg_type, in a table; a frame that shows nothing returns null.

import { alertCard } from "./alert_card.js";
import { buttonRow } from "./buttons.js";
import { el } from "./dom.js";
import { errorCard } from "./error_card.js";
import { formatDateTime, formatTime, label, t } from "./i18n.js";
import { approvalCard, planCard } from "./plan_cards.js";
import { progressCard, resultCard } from "./task_cards.js";

export const BOT_NAME = "GUARDiA-Bot";
const MENTION = /^(\s*@(?:guardia|bot)\b)/i;
/** `via` is `BRIDGE:CHANNEL`, set by the hub on lines that came through a bridge. */
const BRIDGES = { slack: "Slack", mattermost: "Mattermost", messenger: "Webhook" };

function viaBadge(via) {
  if (!via) return null;
  const bridge = via.split(":", 1)[0];
  return el("span", { class: "badge badge-via", text: t("msg.via", { bridge: BRIDGES[bridge] ?? bridge }), title: via });
}

function textBody(content) {
  // "@guardia …" gets its mention set apart; both parts are text nodes
  const match = MENTION.exec(content ?? "");
  if (!match) return el("div", { class: "msg-text", text: content ?? "" });
  return el("div", { class: "msg-text" }, [el("span", { class: "mention", text: match[1] }), content.slice(match[1].length)]);
}

function chatBody(ctx, frame) {
  return [textBody(frame.content), frame.is_widget ? buttonRow(ctx, frame, frame.interactive_actions) : null];
}

/** msg_type -> the body of its timeline item (an element, a list of them, or null). */
const BODIES = {
  CHAT: chatBody,
  COMMAND_PLAN: planCard,
  APPROVAL_REQUEST: approvalCard,
  TASK_FINISHED: resultCard,
  ERROR: errorCard,
  ALERT: alertCard,
  // BUTTON_STATE shows nothing by itself: the buttons it names are drawn as used
  TASK_UPDATE(ctx, frame) {
    // updates fold into the task's card; only a task with no earlier card gets one here
    const task = ctx.store.tasks.get(frame.task_id);
    return task && task.anchorSeq === frame.seq ? progressCard(ctx, frame) : null;
  },
};

function kindOf(frame) {
  if (frame.sender_type === "HUMAN") return "human";
  if (frame.sender === BOT_NAME || frame.sender_type === "BOT") return "bot";
  return "system";
}

function avatar(frame, kind) {
  const letter = kind === "bot" || kind === "system" ? "G" : (frame.sender ?? "?").slice(0, 1).toUpperCase();
  return el("div", { class: `avatar avatar-${kind}`, text: letter, attrs: { "aria-hidden": "true" } });
}

function header(ctx, frame, kind) {
  const mine = kind === "human" && frame.sender === ctx.store.me?.user && !frame.via;
  const severity = frame.itsm_metadata?.severity;
  return el("header", { class: "msg-head" }, [
    el("span", { class: "sender", text: frame.sender ?? "" }),
    mine ? el("span", { class: "badge badge-me", text: t("msg.you") }) : null,
    viaBadge(frame.via),
    kind === "bot" ? el("span", { class: "badge badge-bot", text: "BOT" }) : null,
    severity && severity !== "LOW" ? el("span", { class: `badge badge-sev-${severity.toLowerCase()}`, text: label("alert.severity", severity) }) : null,
    frame.timestamp ? el("time", { text: formatTime(frame.timestamp), attrs: { datetime: frame.timestamp }, title: formatDateTime(frame.timestamp) }) : null,
  ]);
}

/** The timeline item for a stored frame, or null when it shows nothing by itself. */
export function renderFrame(ctx, frame) {
  const body = BODIES[frame.msg_type];
  if (!body) return null;
  const content = body(ctx, frame);
  if (content == null) return null;
  const kind = kindOf(frame);
  return el(
    "article",
    {
      class: `msg msg-${kind} type-${frame.msg_type.toLowerCase().replaceAll("_", "-")}`,
      data: { seq: frame.seq, type: frame.msg_type, task: frame.task_id ?? null, alert: frame.alert_id ?? null, sender: frame.sender ?? "" },
    },
    [avatar(frame, kind), el("div", { class: "msg-body" }, [header(ctx, frame, kind), content])],
  );
}

/** A message this browser sent and the hub has not stored (yet). */
export function renderPending(ctx, messageId, sent, onRetry) {
  const failed = sent.state === "failed";
  return el("article", { class: `msg msg-human msg-pending${failed ? " is-failed" : ""}`, data: { pending: messageId } }, [
    avatar({ sender: ctx.store.me?.user }, "human"),
    el("div", { class: "msg-body" }, [
      el("header", { class: "msg-head" }, [
        el("span", { class: "sender", text: ctx.store.me?.user ?? "" }),
        el("span", { class: "msg-state", text: failed ? t("msg.failed") : t("msg.sending") }),
      ]),
      textBody(sent.content),
      sent.error
        ? el("div", { class: "action-error", attrs: { role: "alert" }, data: { code: sent.error.code } }, [el("strong", { text: sent.error.code }), " ", sent.error.message])
        : null,
      failed ? el("button", { class: "btn btn-ghost", text: t("msg.retry"), attrs: { type: "button" }, on: { click: () => onRetry(messageId) } }) : null,
    ]),
  ]);
}
