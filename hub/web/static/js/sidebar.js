// The left column: who is signed in, the rooms with their unread counts, the connection.

import { el, replaceChildren } from "./dom.js";
import { t } from "./i18n.js";

export class Sidebar {
  constructor(store, { onSelect, onBadge }) {
    this.store = store;
    this.onSelect = onSelect;
    this.onBadge = onBadge;
    this.list = document.getElementById("room-list");
    this.conn = document.getElementById("conn-status");
    this.connMini = document.getElementById("conn-mini");
    this.connState = { state: "connecting", detail: {} };
    this.countdown = null;
    this.active = null;
  }

  renderMe() {
    const me = this.store.me;
    document.getElementById("me-name").textContent = me?.user ?? "";
    document.getElementById("me-roles").textContent = (me?.roles ?? []).join(", ");
  }

  renderRooms() {
    const rooms = [...this.store.rooms.values()];
    const elsewhere = rooms.filter((room) => room.info.id !== this.active);
    this.onBadge?.({
      unread: elsewhere.reduce((sum, room) => sum + room.unread, 0),
      awaiting: elsewhere.reduce((sum, room) => sum + this.store.awaitingMe(room.info.id), 0),
    });
    if (!rooms.length) {
      replaceChildren(this.list, el("li", { class: "room-empty", text: t("rooms.none") }));
      return;
    }
    replaceChildren(
      this.list,
      rooms.map((room) => {
        const { id, name, scope } = room.info;
        const active = id === this.active;
        const awaiting = this.store.awaitingMe(id);
        return el("li", {}, [
          el(
            "button",
            {
              class: `room-item${active ? " is-active" : ""}${room.refused ? " is-refused" : ""}`,
              attrs: { type: "button", "aria-current": active ? "page" : false },
              data: { room: id },
              title: room.refused ? t("room.refused", { message: room.refused.message }) : "",
              on: { click: () => this.onSelect(id) },
            },
            [
              el("span", { class: "room-hash", text: "#", attrs: { "aria-hidden": "true" } }),
              el("span", { class: "room-label" }, [
                el("span", { class: "room-title", text: name || id }),
                el("span", { class: "room-scope", text: scope ? `${id} · ${scope}` : id }),
              ]),
              awaiting > 0 ? el("span", { class: "awaiting", text: `⚑ ${awaiting}`, title: t("rooms.approvals", { count: awaiting }) }) : null,
              room.unread > 0 && !active ? el("span", { class: "unread", text: room.unread > 99 ? "99+" : room.unread }) : null,
            ],
          ),
        ]);
      }),
    );
  }

  setActive(roomId) {
    this.active = roomId;
    this.renderRooms();
  }

  /** connecting | online | offline (with detail.retryAt) */
  setConnection(state, detail = {}) {
    this.connState = { state, detail };
    clearInterval(this.countdown);
    this.renderConnection();
    if (state === "offline") this.countdown = setInterval(() => this.renderConnection(), 500);
  }

  renderConnection() {
    const { state, detail } = this.connState;
    this.conn.dataset.state = state;
    let text = t("conn.connecting");
    if (state === "online") text = t("conn.online");
    if (state === "offline") {
      const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
      text = seconds > 0 ? t("conn.offline", { seconds }) : t("conn.retrying");
    }
    this.conn.querySelector(".conn-text").textContent = text;
    // phones: the sidebar is a closed drawer, so the room's header shows the state too
    this.connMini.dataset.state = state;
    this.connMini.title = text;
    this.connMini.querySelector(".conn-mini-text").textContent = state === "online" ? "" : text;
  }
}
