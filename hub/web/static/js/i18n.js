// The app's language and the formatting of words, numbers and times. The language follows
// the browser (navigator.language "ko*" -> Korean) until the user picks one. The strings
// themselves live in strings_en.js and strings_ko.js.

import { EN } from "./strings_en.js";
import { KO } from "./strings_ko.js";

const STRINGS = { en: EN, ko: KO };

const STORAGE_KEY = "guardia.lang";
const listeners = new Set();

function initialLang() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === "ko" || saved === "en") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

let current = initialLang();

export function lang() {
  return current;
}

export function setLang(next) {
  if (next !== "ko" && next !== "en") return;
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  for (const fn of listeners) fn(next);
}

export function toggleLang() {
  setLang(current === "ko" ? "en" : "ko");
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** The string for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** `key.one` when count is 1, else `key.other`; `count` is among the placeholders. */
export function tn(key, count, vars = {}) {
  return t(`${key}.${count === 1 ? "one" : "other"}`, { count: formatNumber(count), ...vars });
}

/** Whether a string exists (codes from the network may have none). */
export function has(key) {
  return key in STRINGS.en;
}

/** A code's label (intent.RESTART, status.RUNNING), or the code itself when unknown. */
export function label(prefix, code) {
  const key = `${prefix}.${code}`;
  return has(key) ? t(key) : String(code ?? "");
}

/** Fill the static page: data-i18n (text), data-i18n-placeholder, -title, -aria. */
export function applyStatic(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nAria));
  }
  for (const node of root.querySelectorAll("[data-lang-toggle]")) node.textContent = t("lang.switch");
}

function locale() {
  return current === "ko" ? "ko-KR" : "en-GB";
}

/** The time of day; with the date too when it was not today. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const time = date.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString(locale(), { month: "short", day: "numeric" })} ${time}`;
}

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(locale(), {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

export function formatNumber(value) {
  return Number(value).toLocaleString(locale());
}

/** Kilobytes (1024 bytes, as df counts them) in the largest unit that keeps them short. */
export function formatKilobytes(kb) {
  return formatBytes(Number(kb) * 1024);
}

export function formatBytes(size) {
  if (!Number.isFinite(size)) return "";
  if (size >= 1024 ** 4) return `${(size / 1024 ** 4).toFixed(1)} TiB`;
  if (size >= 1024 ** 3) return `${(size / 1024 ** 3).toFixed(1)} GiB`;
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDuration(ms) {
  if (ms == null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? "");
  return date.toLocaleDateString(locale(), { year: "numeric", month: "2-digit", day: "2-digit" });
}
