// Every string the app shows, in Korean and English, and the formatting of times.
// The language follows the browser (navigator.language "ko*" -> Korean) until the user picks one.

const STRINGS = {
  en: {
    "lang.switch": "한국어",
    "signin.lead": "Sign in with your GUARDiA token.",
    "signin.token": "Token",
    "signin.placeholder": "gu_…",
    "signin.remember": "Keep me signed in on this computer",
    "signin.submit": "Sign in",
    "signin.hint": "The demo (guardia demo) prints a token for each demo user.",
    "signin.bad": "This token is not valid (or was revoked).",
    "signin.unreachable": "The hub cannot be reached: {why}",
    "signout": "Sign out",
    "rooms.title": "Rooms",
    "rooms.none": "You may not join any room yet.",
    "rooms.approvals": "{count} approval request(s) waiting for you",
    "room.scope": "scope {scope}",
    "room.everywhere": "all systems",
    "room.refused": "not allowed: {message}",
    "conn.connecting": "Connecting…",
    "conn.online": "Connected",
    "conn.offline": "Disconnected. Reconnecting in {seconds} s…",
    "conn.retrying": "Reconnecting…",
    "composer.placeholder": "Message — start with @guardia to give a command (e.g. @guardia ping)",
    "composer.send": "Send",
    "composer.offline": "Not connected: your message will be sent once the connection is back.",
    "timeline.earlier": "Load earlier messages",
    "timeline.empty": "No messages yet. Say hello, or try “@guardia ping”.",
    "timeline.loading": "Loading…",
    "msg.sending": "sending…",
    "msg.failed": "not sent",
    "msg.retry": "Send again",
    "msg.you": "you",
    "msg.via": "via {bridge}",
    "msg.refers": "about: “{content}”",
    "msg.refersSeq": "about message #{seq}",
    "btn.pressed": "pressed",
    "btn.expired": "expired",
    "btn.refused": "refused",
    "btn.decided": "decided",
    "plan.title": "Command plan",
    "plan.targets": "Targets",
    "plan.steps": "Steps",
    "plan.files": "Files",
    "plan.needsApproval": "Needs approval",
    "plan.runsNow": "Runs now",
    "plan.text": "Bot's description",
    "approval.title": "Approval request",
    "approval.by": "Requested by {user}",
    "approval.expires": "Expires {time}",
    "approval.own": "Your request: another approver must decide.",
    "approval.wait": "Waiting for an approver.",
    "task.title": "Task",
    "task.overall": "Overall",
    "task.waiting": "waiting",
    "result.title": "Result",
    "result.node": "Node",
    "result.action": "Action",
    "result.exit": "exit {code}",
    "result.output": "Output ({lines} lines)",
    "result.summary": "{ok}/{total} succeeded",
    "error.title": "Error {code}",
    "upload.attach": "Upload a file for a deploy",
    "upload.uploading": "Uploading {name}… {percent}%",
    "upload.done": "Uploaded {name} ({size}), sha256 {sha}…",
    "upload.failed": "Upload of {name} failed: {message}",
    "upload.badName": "“{name}” cannot be uploaded: use letters, digits, '.', '_', '-', '+'.",
    "upload.deploy": "Command a deploy of this file",
    "upload.close": "Close",
    "upload.deployText": "@guardia deploy {name} to ",
    "notice.close": "Dismiss",
    "intent.RESTART": "Restart",
    "intent.DEPLOY": "Deploy",
    "intent.ROLLBACK": "Roll back",
    "intent.STATUS": "Status check",
    "intent.DISK_CHECK": "Disk check",
    "intent.DB_LOCK_CHECK": "DB lock check",
    "intent.LOG_TAIL": "Log tail",
    "intent.UNKNOWN": "Unknown",
    "status.QUEUED": "Queued",
    "status.PENDING_APPROVAL": "Waiting for approval",
    "status.APPROVED": "Approved",
    "status.REJECTED": "Rejected",
    "status.EXPIRED": "Expired",
    "status.DISPATCHED": "Sent to agent",
    "status.RUNNING": "Running",
    "status.SUCCEEDED": "Succeeded",
    "status.FAILED": "Failed",
    "status.TIMED_OUT": "Timed out",
    "status.CANCELLED": "Cancelled",
  },
  ko: {
    "lang.switch": "English",
    "signin.lead": "GUARDiA 토큰으로 로그인하세요.",
    "signin.token": "토큰",
    "signin.placeholder": "gu_…",
    "signin.remember": "이 컴퓨터에서 로그인 유지",
    "signin.submit": "로그인",
    "signin.hint": "데모(guardia demo)를 실행하면 데모 사용자별 토큰이 출력됩니다.",
    "signin.bad": "유효하지 않거나 폐기된 토큰입니다.",
    "signin.unreachable": "허브에 연결할 수 없습니다: {why}",
    "signout": "로그아웃",
    "rooms.title": "방",
    "rooms.none": "들어갈 수 있는 방이 아직 없습니다.",
    "rooms.approvals": "승인을 기다리는 요청 {count}건",
    "room.scope": "범위 {scope}",
    "room.everywhere": "전체 시스템",
    "room.refused": "입장 불가: {message}",
    "conn.connecting": "연결 중…",
    "conn.online": "연결됨",
    "conn.offline": "연결이 끊겼습니다. {seconds}초 후 다시 연결합니다…",
    "conn.retrying": "다시 연결하는 중…",
    "composer.placeholder": "메시지 입력 — @guardia 로 시작하면 명령입니다 (예: @guardia ping)",
    "composer.send": "보내기",
    "composer.offline": "연결되어 있지 않습니다. 연결되면 메시지를 보냅니다.",
    "timeline.earlier": "이전 메시지 더 보기",
    "timeline.empty": "아직 메시지가 없습니다. “@guardia ping”을 입력해 보세요.",
    "timeline.loading": "불러오는 중…",
    "msg.sending": "보내는 중…",
    "msg.failed": "전송 실패",
    "msg.retry": "다시 보내기",
    "msg.you": "나",
    "msg.via": "{bridge}에서",
    "msg.refers": "관련 메시지: “{content}”",
    "msg.refersSeq": "관련 메시지 #{seq}",
    "btn.pressed": "누름",
    "btn.expired": "만료",
    "btn.refused": "거부됨",
    "btn.decided": "결정됨",
    "plan.title": "실행 계획",
    "plan.targets": "대상",
    "plan.steps": "단계",
    "plan.files": "파일",
    "plan.needsApproval": "승인 필요",
    "plan.runsNow": "바로 실행",
    "plan.text": "봇 설명",
    "approval.title": "승인 요청",
    "approval.by": "요청자 {user}",
    "approval.expires": "만료 {time}",
    "approval.own": "내 요청입니다. 다른 승인자가 결정해야 합니다.",
    "approval.wait": "승인자를 기다리는 중입니다.",
    "task.title": "작업",
    "task.overall": "전체",
    "task.waiting": "대기",
    "result.title": "결과",
    "result.node": "서버",
    "result.action": "작업",
    "result.exit": "종료 코드 {code}",
    "result.output": "출력 ({lines}줄)",
    "result.summary": "{total}건 중 {ok}건 성공",
    "error.title": "오류 {code}",
    "upload.attach": "배포할 파일 업로드",
    "upload.uploading": "{name} 업로드 중… {percent}%",
    "upload.done": "{name} 업로드 완료 ({size}), sha256 {sha}…",
    "upload.failed": "{name} 업로드 실패: {message}",
    "upload.badName": "“{name}”은(는) 올릴 수 없는 이름입니다. 영문, 숫자, '.', '_', '-', '+'만 쓰세요.",
    "upload.deploy": "이 파일 배포 명령 쓰기",
    "upload.close": "닫기",
    "upload.deployText": "@guardia {name} 배포해줘",
    "notice.close": "닫기",
    "intent.RESTART": "재기동",
    "intent.DEPLOY": "배포",
    "intent.ROLLBACK": "롤백",
    "intent.STATUS": "상태 확인",
    "intent.DISK_CHECK": "디스크 확인",
    "intent.DB_LOCK_CHECK": "DB 락 조회",
    "intent.LOG_TAIL": "로그 조회",
    "intent.UNKNOWN": "알 수 없음",
    "status.QUEUED": "대기",
    "status.PENDING_APPROVAL": "승인 대기",
    "status.APPROVED": "승인됨",
    "status.REJECTED": "반려됨",
    "status.EXPIRED": "만료됨",
    "status.DISPATCHED": "에이전트로 전송",
    "status.RUNNING": "실행 중",
    "status.SUCCEEDED": "성공",
    "status.FAILED": "실패",
    "status.TIMED_OUT": "시간 초과",
    "status.CANCELLED": "취소됨",
  },
};

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

/** A code's label (intent.RESTART, status.RUNNING), or the code itself when unknown. */
export function label(prefix, code) {
  const key = `${prefix}.${code}`;
  return key in STRINGS.en ? t(key) : String(code ?? "");
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

export function formatBytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDuration(ms) {
  if (ms == null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
