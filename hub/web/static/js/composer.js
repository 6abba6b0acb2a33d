// The message box: Enter sends (not while a Korean syllable is still being composed),
// Shift+Enter breaks the line, the box grows with its text; the ＋ button uploads a file.

import { t } from "./i18n.js";

const MAX_HEIGHT_PX = 200;

export class Composer {
  constructor({ onSend, onFile }) {
    this.form = document.getElementById("composer");
    this.text = document.getElementById("composer-text");
    this.file = document.getElementById("file-input");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(onSend);
    });
    this.text.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      this.submit(onSend);
    });
    this.text.addEventListener("input", () => this.fit());
    // a narrow box shows a short hint rather than a cut-off long one
    const narrow = window.matchMedia("(max-width: 640px)");
    const hint = () => {
      this.text.dataset.i18nPlaceholder = narrow.matches ? "composer.placeholderShort" : "composer.placeholder";
      this.text.placeholder = t(this.text.dataset.i18nPlaceholder);
    };
    narrow.addEventListener("change", hint);
    hint();
    document.getElementById("attach").addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => {
      const [chosen] = this.file.files;
      this.file.value = "";
      if (chosen) onFile(chosen);
    });
  }

  submit(onSend) {
    const content = this.text.value.trim();
    if (!content) return;
    if (onSend(content) !== false) {
      this.text.value = "";
      this.fit();
    }
  }

  /** Put text in the box for the user to finish (e.g. a deploy command after an upload). */
  prefill(text) {
    this.text.value = text;
    this.fit();
    this.text.focus();
    this.text.setSelectionRange(text.length, text.length);
  }

  fit() {
    this.text.style.height = "auto";
    this.text.style.height = `${Math.min(this.text.scrollHeight, MAX_HEIGHT_PX)}px`;
  }

  focus() {
    this.text.focus();
  }
}
