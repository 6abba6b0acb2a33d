// The page: sign-in with a token, then the app (app.js). The language toggle works on both.

import { ApiError } from "./api.js";
import { App } from "./app.js";
import { applyStatic, onLangChange, t, toggleLang } from "./i18n.js";

const TOKEN_KEY = "guardia.token";

function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

function signOut(message) {
  window.__guardia?.app?.socket?.stop();
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  if (message) sessionStorage.setItem("guardia.signinError", message);
  location.reload();
}

function showSignin(error) {
  document.getElementById("app").hidden = true;
  document.getElementById("signin").hidden = false;
  const box = document.getElementById("signin-error");
  box.textContent = error ?? "";
  box.hidden = !error;
  document.getElementById("signin-token").focus();
}

async function run(token, remember) {
  const app = new App(token, { onAuthFailed: () => signOut(t("signin.bad")) });
  window.__guardia = {
    app,
    store: app.store,
    get socket() {
      return app.socket;
    },
  };
  try {
    await app.start();
  } catch (error) {
    const bad = error instanceof ApiError && (error.status === 401 || error.status === 403);
    showSignin(bad ? t("signin.bad") : t("signin.unreachable", { why: error.message }));
    if (bad) {
      sessionStorage.removeItem(TOKEN_KEY);
      localStorage.removeItem(TOKEN_KEY);
    }
    return;
  }
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
  document.getElementById("signin").hidden = true;
  document.getElementById("app").hidden = false;
  app.timelines.get(app.active)?.scrollToBottom();
}

function boot() {
  applyStatic();
  for (const button of document.querySelectorAll("[data-lang-toggle]")) button.addEventListener("click", toggleLang);
  onLangChange(() => applyStatic());
  document.getElementById("signout").addEventListener("click", () => signOut());
  document.getElementById("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = document.getElementById("signin-token").value.trim();
    const submit = event.submitter ?? document.querySelector("#signin-form button[type=submit]");
    if (!token || submit.disabled) return;
    submit.disabled = true;
    run(token, document.getElementById("signin-remember").checked).finally(() => (submit.disabled = false));
  });
  const error = sessionStorage.getItem("guardia.signinError");
  sessionStorage.removeItem("guardia.signinError");
  const token = savedToken();
  if (token && !error) run(token, localStorage.getItem(TOKEN_KEY) === token);
  else showSignin(error);
}

boot();
