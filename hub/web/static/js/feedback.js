// Thumbs up/down on the bot's plan and result cards: a FEEDBACK frame naming the card's
// stored message. Optimistic: the choice shows at once (the hub answers nothing when it
// stores it). The hub gives each person their own votes back on JOINED (`feedback`), so
// thumbs stay chosen across reloads and devices (app.js restoreFeedback).

import { el } from "./dom.js";
import { t } from "./i18n.js";

// the thumb is drawn by CSS (thumb.svg as a mask): no emoji font needed
const CHOICES = [
  { helpful: true, key: "feedback.up", value: "up" },
  { helpful: false, key: "feedback.down", value: "down" },
];

export function feedbackRow(ctx, frame) {
  if (!frame.message_id || !ctx.feedback) return null;
  const chosen = ctx.store.feedback.get(frame.message_id);
  return el("div", { class: "feedback", data: { target: frame.message_id, chosen: chosen === undefined ? null : chosen ? "up" : "down" } }, [
    ...CHOICES.map((choice) =>
      el("button", {
        class: `btn btn-ghost btn-thumb${chosen === choice.helpful ? " is-chosen" : ""}`,
        title: t(choice.key),
        attrs: { type: "button", "aria-label": t(choice.key), "aria-pressed": chosen === choice.helpful ? "true" : "false" },
        data: { helpful: choice.value },
        on: { click: () => ctx.feedback(frame, choice.helpful) },
      }),
    ),
    chosen === undefined ? null : el("span", { class: "feedback-thanks", text: t("feedback.thanks") }),
  ]);
}
