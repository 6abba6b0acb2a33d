// Rows of buttons and the state each shows. A button says what happened to it from, in
// order: our own press's refusal; the hub's BUTTON_STATE (used by whom, expired); what its
// card knows (a decided task, an acknowledged alert); our press on its way; its expiry.

import { errorNote } from "./cards.js";
import { el } from "./dom.js";
import { has, t } from "./i18n.js";

// CLARIFY names a choice (a system, a layer): the server's label is the only right one
const OWN_LABEL = new Set(["CLARIFY"]);

export function buttonLabel(button) {
  const key = `cmd.${button.command_code}`;
  return !OWN_LABEL.has(button.command_code) && has(key) ? t(key) : button.label;
}

const IDLE = { state: "idle", by: null, error: null };

/**
 * The state a button shows. `derive(button)` is its card's knowledge: a state or null.
 * States: idle, pressed, used (by), expired, refused, closed (its question was settled).
 */
export function buttonState(ctx, button, derive = null) {
  const own = ctx.store.button(button.action_id);
  if (own.error) return { by: null, ...own };
  const server = ctx.store.serverButton(button.action_id);
  if (server) return { state: server.state, by: server.by, error: null };
  const derived = derive?.(button);
  if (derived) return { by: null, error: null, ...derived };
  if (own.state !== "idle") return { by: null, ...own };
  const expires = Date.parse(button.expires_at ?? "");
  if (Number.isFinite(expires)) {
    if (expires <= Date.now()) return { state: "expired", by: null, error: null };
    ctx.remindAt?.(expires);
  }
  return IDLE;
}

const STATE_WORD = { pressed: "btn.pressed", used: "btn.used", expired: "btn.expired", refused: "btn.refused", closed: "btn.closed" };

function stateTag(state, by, me) {
  if (!STATE_WORD[state]) return null;
  const who = by ? t("btn.usedBy", { user: by === me ? t("msg.you") : by }) : null;
  return el("span", { class: "btn-state", text: who ? `${t(STATE_WORD[state])} · ${who}` : t(STATE_WORD[state]) });
}

/** Buttons of a frame. options: derive(button) -> state|null, visible(button) -> bool. */
export function buttonRow(ctx, frame, allButtons, { derive = null, visible = null } = {}) {
  const buttons = (allButtons ?? []).filter((button) => !visible || visible(button));
  if (!buttons.length) return null;
  const notes = [];
  const row = el("div", { class: "actions", data: { actions: buttons.map((b) => b.action_id).join(" ") } });
  for (const button of buttons) {
    const { state, by, error } = buttonState(ctx, button, derive);
    row.append(
      el(
        "button",
        {
          class: `btn btn-${button.style ?? "default"}`,
          attrs: { type: "button", disabled: state !== "idle" },
          data: { actionId: button.action_id, code: button.command_code, state, by },
          on: { click: () => ctx.press(frame, button) },
        },
        [el("span", { class: "btn-label", text: buttonLabel(button) }), stateTag(state, by, ctx.store.me?.user)],
      ),
    );
    if (error) notes.push(errorNote(error));
  }
  return el("div", { class: "action-block" }, [row, ...notes]);
}
