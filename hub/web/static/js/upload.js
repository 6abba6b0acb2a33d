// Uploading a deploy artifact: POST /api/artifacts?filename=NAME&room_id=ROOM (the artifact
// belongs to the system of the room it is uploaded in) with the raw file as the
// body, through XMLHttpRequest so that the page can show the upload's progress.

import { el, progressBar, replaceChildren } from "./dom.js";
import { formatBytes, t } from "./i18n.js";

// the hub's rule (hub/artifacts.py): a bare name, no paths, no "..", no hidden files
const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/;

export function isUploadableName(name) {
  return FILENAME.test(name) && !name.includes("..");
}

/** Resolves to {artifact_id, filename, sha256, size}; rejects with {status, code, message}. */
export function uploadArtifact(file, roomId, token, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const query = `filename=${encodeURIComponent(file.name)}&room_id=${encodeURIComponent(roomId ?? "")}`;
    xhr.open("POST", `/api/artifacts?${query}`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // keep the status alone
      }
      if (xhr.status === 201) {
        onProgress(1);
        resolve(body);
      } else {
        reject({ status: xhr.status, code: body.code ?? "HTTP", message: body.message ?? xhr.statusText });
      }
    });
    xhr.addEventListener("error", () => reject({ status: 0, code: "NETWORK", message: "network error" }));
    xhr.addEventListener("abort", () => reject({ status: 0, code: "ABORTED", message: "aborted" }));
    xhr.send(file);
  });
}

/** The panel above the composer that shows one upload: progress, then the result. */
export class UploadPanel {
  constructor(node, { token, onDeploy }) {
    this.node = node;
    this.token = token;
    this.onDeploy = onDeploy;
  }

  hide() {
    this.node.hidden = true;
    this.node.replaceChildren();
  }

  show(children, state) {
    this.node.hidden = false;
    this.node.dataset.state = state;
    replaceChildren(this.node, [
      ...children,
      el("button", { class: "btn btn-ghost upload-close", text: t("upload.close"), attrs: { type: "button" }, on: { click: () => this.hide() } }),
    ]);
  }

  async start(file, roomId) {
    if (!isUploadableName(file.name)) {
      this.show([el("span", { class: "upload-text", text: t("upload.badName", { name: file.name }) })], "failed");
      return null;
    }
    const text = el("span", { class: "upload-text" });
    const bar = progressBar(0, "bar upload-bar");
    const render = (fraction) => {
      text.textContent = t("upload.uploading", { name: file.name, percent: Math.round(fraction * 100) });
      bar.value = fraction;
      bar.dataset.value = fraction.toFixed(3);
    };
    this.show([text, bar], "uploading");
    render(0);
    try {
      const stored = await uploadArtifact(file, roomId, this.token, render);
      this.show(
        [
          progressBar(1, "bar upload-bar"),
          el("span", {
            class: "upload-text",
            text: t("upload.done", { name: stored.filename, size: formatBytes(stored.size), sha: stored.sha256.slice(0, 12) }),
            attrs: { title: `sha256 ${stored.sha256}` },
          }),
          el("button", {
            class: "btn btn-primary",
            text: t("upload.deploy"),
            attrs: { type: "button" },
            on: { click: () => this.onDeploy(stored.filename) },
          }),
        ],
        "done",
      );
      this.node.dataset.sha256 = stored.sha256;
      return stored;
    } catch (error) {
      this.show([el("span", { class: "upload-text", text: t("upload.failed", { name: file.name, message: error.message }) })], "failed");
      return null;
    }
  }
}
