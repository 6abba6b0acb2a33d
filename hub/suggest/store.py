"""The exemplar store: one chromadb collection of labelled sentences, with their scopes.

Built-in exemplars (exemplars.py) are stored with scope `*` and origin `builtin`; they are
upserted under ids derived from their text, so every hub that opens the store converges on
the same set and a release that changes them replaces the old ones. Dismissals are `none`
exemplars with the room's scope and origin `dismissal`, stored in the same collection, so
hubs sharing one `chroma run` server all see each other's.

Where it lives: `chromadb.PersistentClient(<data_dir>/chroma)` by default;
`chromadb.HttpClient` when a URL is given (GUARDIA_CHROMA_URL). `open_store` keeps one
store per target per process, on the process's one client for it (chroma.py, shared with
the incident memory). Telemetry is off: nothing dials out.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where

from hub.suggest.chroma import STORE_ERRORS, chroma_client, target_of
from hub.suggest.embedding import E5Embedding, Vector, embed, use_threads
from hub.suggest.exceptions import StoreUnavailable
from hub.suggest.exemplars import EXEMPLARS
from hub.suggest.kinds import CLASSES, NONE_CLASS
from hub.suggest.scope import GLOBAL, Scope, scope_key, visible_keys

COLLECTION = "guardia_suggest_exemplars"
#: neighbours fetched per query; a class not among them scores the farthest one's similarity
#: (an upper bound, which only makes the decision more cautious)
NEIGHBOURS = 40
BUILTIN = "builtin"
DISMISSAL = "dismissal"
#: longest dismissal stored; chat lines are cut like this before they are embedded anyway
MAX_DISMISSAL_CHARS = 500

_STORE_ERRORS = STORE_ERRORS


@dataclass(frozen=True, slots=True)
class Similarities:
    """Cosine similarity of a text to the nearest exemplar of each class, in one room's view."""

    by_class: dict[str, float]
    #: similarity to the nearest dismissal in view, -1.0 when there is none near
    dismissal: float


def _id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:32]}"


class ExemplarStore:
    """Exemplars and dismissals in one collection; `similarities` is the one query per line."""

    def __init__(self, client: ClientAPI) -> None:
        self._client = client
        try:
            self._collection: Collection = client.get_or_create_collection(
                COLLECTION,
                embedding_function=E5Embedding(),  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
            self._seed()
        except _STORE_ERRORS as exc:
            raise StoreUnavailable(f"the exemplar store cannot be used: {exc}") from exc

    @property
    def client(self) -> ClientAPI:
        return self._client

    @property
    def collection(self) -> Collection:
        return self._collection

    def _seed(self) -> None:
        wanted = {
            _id("b", label, text): (label, text)
            for label, texts in EXEMPLARS.items()
            for text in texts
        }
        have = set(self._collection.get(where={"origin": BUILTIN}, include=[])["ids"])
        missing = [exemplar_id for exemplar_id in wanted if exemplar_id not in have]
        if missing:
            texts = [wanted[exemplar_id][1] for exemplar_id in missing]
            self._collection.upsert(
                ids=missing,
                embeddings=embed(texts),
                documents=texts,
                metadatas=[
                    {"class": wanted[i][0], "scope": GLOBAL, "origin": BUILTIN} for i in missing
                ],
            )
        stale = sorted(have - wanted.keys())
        if stale:
            self._collection.delete(ids=stale)

    def similarities(self, embedding: Vector, scope: Scope | None) -> Similarities:
        """Nearest exemplar per class among those a room of `scope` sees."""
        keys: list[str | int | float | bool] = list(visible_keys(scope))
        among: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {"$in": keys}
        where: Where = {"scope": among}
        vectors: list[Sequence[float] | Sequence[int]] = [embedding.tolist()]
        try:
            found = self._collection.query(
                query_embeddings=vectors,
                n_results=NEIGHBOURS,
                where=where,
                include=["metadatas", "distances"],
            )
        except _STORE_ERRORS as exc:
            raise StoreUnavailable(f"the exemplar store cannot be queried: {exc}") from exc
        distances = (found["distances"] or [[]])[0]
        metadatas = (found["metadatas"] or [[]])[0]
        floor = 1.0 - max(distances) if distances else 0.0
        by_class = dict.fromkeys(CLASSES, floor)
        seen: set[str] = set()
        dismissal = -1.0
        for distance, metadata in zip(distances, metadatas, strict=True):
            label = str(metadata["class"])
            similarity = 1.0 - distance
            if label not in seen:  # results come nearest first
                seen.add(label)
                by_class[label] = similarity
            if metadata.get("origin") == DISMISSAL and similarity > dismissal:
                dismissal = similarity
        return Similarities(by_class, dismissal)

    def add_dismissal(self, text: str, scope: Scope | None) -> str:
        """Store `text` as a `none` exemplar for `scope`; idempotent. Returns its id.

        Store the text as the detector embeds it (`SymptomDetector.dismiss` takes the CMDB
        names out first), so that the same line is recognised whatever system it named.
        """
        text = text.strip()[:MAX_DISMISSAL_CHARS]
        if not text:
            raise ValueError("a dismissal needs the text that was dismissed")
        key = scope_key(scope)
        exemplar_id = _id("d", key, text)
        try:
            self._collection.upsert(
                ids=[exemplar_id],
                embeddings=embed([text]),
                documents=[text],
                metadatas=[{"class": NONE_CLASS, "scope": key, "origin": DISMISSAL}],
            )
        except _STORE_ERRORS as exc:
            raise StoreUnavailable(f"the dismissal could not be stored: {exc}") from exc
        return exemplar_id

    def dismissals(self, scope: Scope | None) -> list[str]:
        """The texts dismissed in exactly this scope, sorted (for admins and tests)."""
        found = self._collection.get(
            where={"$and": [{"origin": DISMISSAL}, {"scope": scope_key(scope)}]},
            include=["documents"],
        )
        return sorted(cast(list[str], found["documents"] or []))


_stores: dict[str, ExemplarStore] = {}
_stores_lock = threading.Lock()


def open_store(
    data_dir: Path | str | None, chroma_url: str | None = None, *, threads: int | None = None
) -> ExemplarStore:
    """The process's store: on the server at `chroma_url`, else under `<data_dir>/chroma`.

    With neither, an in-memory store (for `guardia suggest` and tests): nothing persists.
    Opening seeds the built-in exemplars (about a second of embedding the first time a
    store is created, nothing once they are there). `threads` is the embedding's thread
    count (GUARDIA_SUGGEST_THREADS in the hub), if the model has not loaded yet.
    """
    if threads is not None:
        use_threads(threads)
    target = target_of(data_dir, chroma_url)
    with _stores_lock:
        store = _stores.get(target)
        if store is None:
            store = _stores[target] = ExemplarStore(chroma_client(data_dir, chroma_url))
        return store
