// One room's scrolling list of messages, kept in seq order whatever order frames arrive in.

import { byData, el } from "./dom.js";
import { t } from "./i18n.js";
import { renderFrame, renderPending } from "./render.js";

const NEAR_BOTTOM_PX = 120;
const GROUP_WITHIN_MS = 3 * 60 * 1000;

export class Timeline {
  constructor(ctx, room, { onEarlier, onRetry }) {
    this.ctx = ctx;
    this.room = room;
    this.onRetry = onRetry;
    this.earlier = el("button", { class: "btn btn-ghost earlier", attrs: { type: "button" }, on: { click: () => onEarlier(room) } });
    this.list = el("div", { class: "items", attrs: { role: "log", "aria-live": "polite" } });
    this.pending = el("div", { class: "pending" });
    this.node = el("div", { class: "timeline", data: { room: room.info.id }, attrs: { hidden: true } }, [
      el("div", { class: "timeline-inner" }, [this.earlier, this.list, this.pending]),
    ]);
    this.seen = false;
  }

  get atBottom() {
    const n = this.node;
    return n.scrollHeight - n.scrollTop - n.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.node.scrollTop = this.node.scrollHeight;
  }

  /** Keep the view at the bottom across a change if it was there before. */
  stick(change) {
    const wasAtBottom = this.node.hidden || this.atBottom;
    change();
    if (wasAtBottom) this.scrollToBottom();
  }

  show() {
    this.node.hidden = false;
    if (!this.seen) {
      this.seen = true;
      this.scrollToBottom();
    }
  }

  hide() {
    this.node.hidden = true;
  }

  /** Everything again from the store (first load, earlier pages, language change). */
  renderAll() {
    const fromBottom = this.node.scrollHeight - this.node.scrollTop;
    this.earlier.textContent = t("timeline.earlier");
    this.earlier.hidden = !this.room.hasEarlier;
    this.list.dataset.empty = t("timeline.empty");
    this.list.replaceChildren();
    for (const frame of this.room.sorted()) {
      const item = renderFrame(this.ctx, frame);
      if (item) this.list.append(item);
    }
    for (const item of this.list.children) group(item);
    this.renderPending();
    this.node.scrollTop = this.node.scrollHeight - fromBottom;
  }

  /** A new stored frame: its item goes where its seq says. */
  insert(frame) {
    const item = renderFrame(this.ctx, frame);
    if (!item) return;
    this.stick(() => {
      let after = this.list.lastElementChild;
      while (after && Number(after.dataset.seq) > frame.seq) after = after.previousElementSibling;
      if (after) after.after(item);
      else this.list.prepend(item);
      group(item);
      if (item.nextElementSibling) group(item.nextElementSibling);
    });
  }

  /** Draw one item again from its frame, keeping folded output open where it was. */
  redraw(item) {
    const frame = this.room.frames.get(Number(item.dataset.seq));
    if (!frame) return;
    const open = new Set([...item.querySelectorAll("details[open]")].map((d) => d.dataset.fold));
    const fresh = renderFrame(this.ctx, frame);
    if (!fresh) {
      // its card now sits at another frame (an earlier ALERT or update of the same thing)
      this.stick(() => item.remove());
      return;
    }
    for (const details of fresh.querySelectorAll("details")) details.open = open.has(details.dataset.fold);
    fresh.className = item.className;
    this.stick(() => item.replaceWith(fresh));
  }

  refreshTask(taskId) {
    for (const item of [...byData("task", taskId, this.list)]) {
      if (item.matches("article")) this.redraw(item);
    }
  }

  refreshAlert(alertId) {
    for (const item of [...byData("alert", alertId, this.list)]) {
      if (item.matches("article")) this.redraw(item);
    }
  }

  /** Items whose cards show a feedback row for this stored message. */
  refreshFeedback(messageId) {
    for (const row of [...byData("target", messageId, this.list)]) {
      const item = row.closest("article");
      if (item) this.redraw(item);
    }
  }

  refreshAction(actionId) {
    for (const row of [...byData("actions", actionId, this.list)]) {
      const item = row.closest("article");
      if (item) this.redraw(item);
    }
  }

  renderPending() {
    const items = [];
    for (const [messageId, sent] of this.ctx.store.chatsSent) {
      if (sent.roomId === this.room.info.id && sent.seq == null) items.push(renderPending(this.ctx, messageId, sent, this.onRetry));
    }
    this.stick(() => this.pending.replaceChildren(...items));
  }
}

/** Consecutive chat lines of one sender within minutes share one header. */
function group(item) {
  const prev = item.previousElementSibling;
  const same =
    prev &&
    item.dataset.type === "CHAT" &&
    prev.dataset.type === "CHAT" &&
    prev.dataset.sender === item.dataset.sender &&
    Math.abs(time(item) - time(prev)) < GROUP_WITHIN_MS;
  item.classList.toggle("is-continued", Boolean(same));
}

function time(item) {
  const stamp = item.querySelector("time")?.getAttribute("datetime");
  return stamp ? Date.parse(stamp) : 0;
}
