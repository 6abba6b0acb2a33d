"""The incident memory's collection: resolved incidents, embedded like the bot's exemplars.

One chromadb collection (`guardia_incidents`) on the process's client (chroma.py), with the
proactive bot's embedding function (embedding.py: e5, `query: ` prefix). Each resolved
incident is one entry, its id the incident's id (a second resolution replaces it), its
document the symptom as `symptom_text` words it (symptoms.py, which also says when two are
the same), its metadata what the card needs to name it and what fixed it. `nearest` is one
query restricted to one system. Synchronous: callers in an event loop use a thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from hub.suggest.chroma import STORE_ERRORS, chroma_client, target_of
from hub.suggest.embedding import E5Embedding, embed
from hub.suggest.exceptions import StoreUnavailable
from hub.suggest.symptoms import PastIncident

COLLECTION = "guardia_incidents"
#: candidates fetched per query (the best of the same symptom is chosen among them)
NEIGHBOURS = 5


class IncidentIndex:
    """Resolved incidents in one collection; synchronous (callers in a loop use a thread)."""

    def __init__(self, client: ClientAPI) -> None:
        try:
            self._collection: Collection = client.get_or_create_collection(
                COLLECTION,
                embedding_function=E5Embedding(),  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
        except STORE_ERRORS as exc:
            raise StoreUnavailable(f"the incident memory cannot be used: {exc}") from exc

    def remember(self, incident: PastIncident) -> None:
        """Store (or replace) one resolved incident."""
        if not incident.text:
            return
        try:
            self._collection.upsert(
                ids=[incident.incident_id],
                embeddings=embed([incident.text]),
                documents=[incident.text],
                metadatas=[incident.metadata()],
            )
        except STORE_ERRORS as exc:
            raise StoreUnavailable(f"the incident could not be stored: {exc}") from exc

    def nearest(
        self, text: str, system: str, *, exclude: str | None = None, limit: int = NEIGHBOURS
    ) -> list[PastIncident]:
        """The incidents of `system` nearest to `text`, nearest first, with their similarity."""
        if not text:
            return []
        try:
            found = self._collection.query(
                query_embeddings=[embed([text])[0].tolist()],
                n_results=limit,
                where={"system": system},
                include=["metadatas", "distances", "documents"],
            )
        except STORE_ERRORS as exc:
            raise StoreUnavailable(f"the incident memory cannot be queried: {exc}") from exc
        ids = found["ids"][0] if found["ids"] else []
        distances = (found["distances"] or [[]])[0]
        metadatas = (found["metadatas"] or [[]])[0]
        documents = (found["documents"] or [[]])[0]
        return [
            PastIncident.of(i, doc or "", dict(meta or {}), 1.0 - distance)
            for i, distance, meta, doc in zip(ids, distances, metadatas, documents, strict=True)
            if i != exclude
        ]

    def known(self, ids: list[str]) -> set[str]:
        """Which of these incidents the collection holds."""
        if not ids:
            return set()
        try:
            return set(self._collection.get(ids=ids, include=[])["ids"])
        except STORE_ERRORS as exc:
            raise StoreUnavailable(f"the incident memory cannot be read: {exc}") from exc

    def count(self) -> int:
        return int(self._collection.count())


_indexes: dict[str, IncidentIndex] = {}
_indexes_lock = threading.Lock()


def open_incidents(data_dir: Path | str | None, chroma_url: str | None = None) -> IncidentIndex:
    """The process's incident index, on the same client as the bot's exemplar store."""
    target = target_of(data_dir, chroma_url)
    with _indexes_lock:
        index = _indexes.get(target)
        if index is None:
            index = _indexes[target] = IncidentIndex(chroma_client(data_dir, chroma_url))
        return index
