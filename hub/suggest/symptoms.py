"""The incident memory's judgement, pure: the words of a symptom, and when two are the same.

What is embedded is the symptom, not the place: node codes, addresses and the node-and-
service prefix of a log watch's title are taken out, Grafana's `[FIRING:n]` too, and Java
line numbers, so that the same trouble on another server of the system (the usual repeat)
reads the same. Kept: alert names, exception classes, error codes (ORA-00060), messages.
The threshold, SIMILAR_AT, is chosen on tests/data/incident_memory/incidents.yaml (41
incidents of 17 symptoms: alerts, log lines, application errors, in Korean and English):
bench/incident_memory_eval.py prints the table, tests/test_suggest_incidents.py holds it.
e5's cosine similarities are compressed (unrelated alerts of one site score 0.80-0.915,
because they share the words of their templates), so only the top of the scale means "the
same symptom". At 0.925 no pair of different symptoms is similar (the closest, a disk-full
alert and a CPU alert, is 0.9155), and replaying the incidents in turn (each asks, then is
remembered) 20 of the 24 that have an earlier incident of their symptom find it and none
names a wrong one; at 0.915 one names a wrong one, at 0.93 two more find none. The same
headline (the alert's name, the exception and its message) lowers the bar to
SAME_HEADLINE_AT, 0.905: the same alert again with other numbers in its text
(PostgresLockWait with 3, then 7 sessions waiting: 0.9196), while generic titles shared by
different troubles (RFC 9457's "Internal Server Error") stay below it (0.8904 at most).
A wrong "same symptom" line would send an operator down the wrong path, a missing one
costs nothing: the thresholds lean to silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: cosine similarity from which an earlier incident counts as the same symptom (see above)
SIMILAR_AT = 0.925
#: the same headline (alert name, exception and message, log line) needs only this much:
#: the same alert again with other numbers in its text (3 sessions waiting, then 7)
SAME_HEADLINE_AT = 0.905
#: lines of the summary embedded after the title: the top of a trace or an alert's text
SUMMARY_LINES = 3
MAX_TEXT = 600

_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")
#: CMDB-style asset codes (ABC-WAS-01, XYZ-DB-02, ABC-STG-WAS-01): two hyphens or more,
#: so that error codes (ORA-00060) and UTF-8 stay
_ASSET = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+){2,}\b")
_FIRING = re.compile(r"^\[(?:FIRING|RESOLVED):\d+\]\s*")
#: a log watch's title: "NODE service: the line"
_WATCH_PREFIX = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+ [\w.@-]+: ")
_JAVA_LINE = re.compile(r"\(([\w$.-]+\.(?:java|kt|scala|groovy)):\d+\)")
_PATH_LINE = re.compile(r"^/\S+$")
_SPACES = re.compile(r"[ \t]+")


def _placeless(line: str, node: str | None) -> str:
    if node:
        line = line.replace(node, "")
    line = _JAVA_LINE.sub(r"(\1)", _ASSET.sub("", _IP.sub("", line)))
    return _SPACES.sub(" ", line).strip()


def symptom_text(title: str, summary: str, node: str | None = None) -> str:
    """The words of an incident that say what went wrong, without where (see the module)."""
    title = _placeless(_WATCH_PREFIX.sub("", _FIRING.sub("", title.strip())), node)
    lines = [title] if title else []
    for raw in summary.splitlines():
        if _PATH_LINE.match(raw.strip()):
            continue  # a log watch's file path says nothing of the symptom
        line = _placeless(raw, node)
        if not line or line == title:
            continue
        lines.append(line)
        if len(lines) > SUMMARY_LINES:
            break
    return "\n".join(lines)[:MAX_TEXT]


def headline(text: str) -> str:
    """The first line of a symptom text: the alert's name, the error, the log line."""
    return text.split("\n", 1)[0].strip().lower()


def same_symptom(text: str, past: PastIncident, threshold: float = SIMILAR_AT) -> bool:
    """Whether `past` (found by `nearest` for `text`) is the same symptom (see SIMILAR_AT)."""
    if past.similarity >= threshold:
        return True
    return past.similarity >= SAME_HEADLINE_AT and headline(text) == headline(past.text)


def choose(
    text: str, candidates: list[PastIncident], threshold: float = SIMILAR_AT
) -> PastIncident | None:
    """The earlier incident a card names: of those with the same symptom, one a task fixed
    before one that went away by itself (what fixed it is what the operator wants to know),
    then the most similar."""
    same = [p for p in candidates if same_symptom(text, p, threshold)]
    if not same:
        return None
    return max(same, key=lambda p: (p.resolved_by == "task", p.similarity))


@dataclass(frozen=True)
class PastIncident:
    """A resolved incident as the memory keeps it: the symptom, where, and what fixed it."""

    incident_id: str
    system: str
    text: str
    first_seen: str
    node: str | None = None
    institution: str | None = None
    kind: str | None = None
    source: str | None = None
    resolved_at: str | None = None
    #: "task" (a task launched from its card) or "alert" (its sender resolved it)
    resolved_by: str | None = None
    #: the fixing task's action (RESTART_SERVICE) and node, when a task fixed it
    action: str | None = None
    action_node: str | None = None
    task_id: str | None = None
    #: the resolution in the incident's language, for readers that cannot word it
    resolution: str = ""
    #: cosine similarity to the text it was found for (set by `nearest`)
    similarity: float = field(default=0.0, compare=False)

    def metadata(self) -> dict[str, str | int | float | bool]:
        """chromadb metadata: scalars only, the unset ones left out."""
        values: dict[str, Any] = {
            "system": self.system,
            "first_seen": self.first_seen,
            "node": self.node,
            "institution": self.institution,
            "kind": self.kind,
            "source": self.source,
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by,
            "action": self.action,
            "action_node": self.action_node,
            "task_id": self.task_id,
            "resolution": self.resolution,
        }
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def of(
        cls, incident_id: str, text: str, meta: dict[str, Any], similarity: float
    ) -> PastIncident:
        def get(key: str) -> str | None:
            value = meta.get(key)
            return None if value is None else str(value)

        return cls(
            incident_id=incident_id,
            system=str(meta.get("system", "")),
            text=text,
            first_seen=str(meta.get("first_seen", "")),
            node=get("node"),
            institution=get("institution"),
            kind=get("kind"),
            source=get("source"),
            resolved_at=get("resolved_at"),
            resolved_by=get("resolved_by"),
            action=get("action"),
            action_node=get("action_node"),
            task_id=get("task_id"),
            resolution=str(meta.get("resolution", "")),
            similarity=similarity,
        )
