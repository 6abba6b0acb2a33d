// On a phone the room list is a drawer: the ☰ button in the room's header opens it over the
// room, choosing a room, the backdrop or Escape closes it. The button carries a badge while
// another room has an approval waiting for this user, or something unread.

const PHONE = "(max-width: 640px)";

export class Drawer {
  constructor() {
    this.app = document.getElementById("app");
    this.toggle = document.getElementById("rooms-toggle");
    this.badge = document.getElementById("rooms-toggle-badge");
    this.backdrop = document.getElementById("drawer-backdrop");
    this.phone = window.matchMedia(PHONE);
    this.toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    document.getElementById("rooms-close").addEventListener("click", () => this.close());
    this.backdrop.addEventListener("click", () => this.close());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen) this.close();
    });
    this.phone.addEventListener("change", () => this.close());
  }

  get isOpen() {
    return this.app.dataset.drawer === "open";
  }

  get isPhone() {
    return this.phone.matches;
  }

  open() {
    this.app.dataset.drawer = "open";
    this.backdrop.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    document.querySelector("#room-list .room-item.is-active, #room-list .room-item")?.focus();
  }

  close() {
    if (!this.isOpen) return;
    delete this.app.dataset.drawer;
    this.backdrop.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
  }

  /** The badge: approvals waiting for this user in other rooms (⚑ n), else their unread count. */
  setBadge({ unread, awaiting }) {
    const count = awaiting || unread;
    this.badge.hidden = count <= 0;
    this.badge.dataset.kind = awaiting ? "awaiting" : "unread";
    const shown = count > 99 ? "99+" : String(count);
    this.badge.textContent = awaiting ? `⚑ ${shown}` : shown;
  }
}
