// An ERROR stored in a room (a refused command everyone sees): what its code means in the
// reader's language first, the hub's own message (in the requester's language) below it.

import { cardHead, errorSentence } from "./cards.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

export function errorCard(ctx, frame) {
  const sent = frame.ref ? ctx.store.chatsSent.get(frame.ref) : null;
  const refers = sent ? t("msg.refers", { content: sent.content }) : null;
  const detail = frame.message ?? frame.content ?? "";
  return el("section", { class: "card card-error", data: { kind: "error", code: frame.code, ref: frame.ref ?? null } }, [
    cardHead("!", t("error.title", { code: frame.code }), null),
    el("p", { class: "card-text error-sentence", text: errorSentence(frame.code) }),
    detail ? el("p", { class: "error-detail", text: detail }) : null,
    refers ? el("p", { class: "card-ref", text: refers }) : null,
  ]);
}
