"""`guardia suggest --cmdb FILE.yaml [--scope INST[/SYS]] [TEXT]`: what the bot would say.

With TEXT, one answer. Without, one line at a time from stdin, each plain text or a JSON
object `{"text": ..., "scope": null | "INST" | "INST/SYS"}` (its scope overrides
--scope), and one JSON object per line on stdout, in order, flushed per line:
`{"suggest", "kind", "plan", "message", "score"}`. No database and no network: the
exemplars live in an in-memory chromadb for the run (embedding them takes a second or two
at start). Exit status: 0; 1 when a line was refused (bad JSON or scope); 2 for a bad CMDB
file or --scope.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import orjson

from cmdb.document import load_cmdb_file
from cmdb.exceptions import CmdbFileError
from cmdb.index import CmdbIndex
from hub.suggest.exceptions import SuggestError
from hub.suggest.scope import Scope, parse_scope


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `guardia suggest`."""
    parser.add_argument(
        "--cmdb", required=True, metavar="FILE.yaml", help="the CMDB file to ground plans in"
    )
    parser.add_argument(
        "--scope", metavar="INST[/SYS]", help="the room's scope, for lines that name no system"
    )
    parser.add_argument("text", nargs="?", help="a chat line; without it, one per line on stdin")


def _lines() -> Iterator[str]:
    # stdin as UTF-8 whatever the locale: Korean must not depend on LANG
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    for line in stream:
        yield line.rstrip("\r\n")


class _BadLine(ValueError):
    """A line that is no request; `code` is protocol.md's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _request(line: str, default: Scope | None) -> tuple[str, Scope | None]:
    """A line of input: plain text, or a JSON object with `text` and `scope`."""
    if not line.lstrip().startswith("{"):
        return line, default
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _BadLine("BAD_JSON", f"a line starting with '{{' must be JSON: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise _BadLine("BAD_FRAME", 'a JSON line is an object with "text" (a string)')
    if "scope" not in obj:
        return obj["text"], default
    scope = obj["scope"]
    if scope is not None and not isinstance(scope, str):
        raise _BadLine("BAD_FRAME", '"scope" is null, "INST" or "INST/SYS"')
    try:
        return obj["text"], parse_scope(scope)
    except SuggestError as exc:
        raise _BadLine("BAD_FRAME", exc.message) from exc


def _write(out: BinaryIO, answer: dict[str, Any]) -> None:
    out.write(orjson.dumps(answer) + b"\n")
    out.flush()


def run(args: argparse.Namespace, threads: int | None = None) -> int:
    """Run `guardia suggest`; returns the exit status. `threads`: the embedding's threads."""
    try:
        index = CmdbIndex.from_document(load_cmdb_file(args.cmdb))
        default = parse_scope(args.scope)
    except CmdbFileError as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        print(f"guardia suggest: {exc.source}: {where}{exc.reason}", file=sys.stderr)
        return 2
    except SuggestError as exc:
        print(f"guardia suggest: --scope: {exc.message}", file=sys.stderr)
        return 2
    # imported here: chromadb and the model are the slow part, and a bad file needs neither
    from hub.suggest.detector import SymptomDetector
    from hub.suggest.message import render_message
    from hub.suggest.store import open_store

    detector = SymptomDetector(open_store(None, threads=threads))
    texts: Iterable[str] = [args.text] if args.text is not None else _lines()
    out = sys.stdout.buffer
    status = 0
    for line in texts:
        try:
            text, scope = _request(line, default)
        except _BadLine as exc:
            _write(out, {"error": {"code": exc.code, "message": exc.message}})
            status = 1
            continue
        verdict = detector.assess(text, scope, index)
        found = verdict.suggestion
        _write(
            out,
            {
                "suggest": found is not None,
                "kind": found.kind if found else None,
                "plan": found.plan.model_dump(mode="json") if found else None,
                "message": render_message(found, found.lang, index) if found else None,
                "score": verdict.score,
            },
        )
    return status


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (`python -m hub.suggest.cli`); `guardia suggest` is the same."""
    parser = argparse.ArgumentParser(prog="guardia suggest", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
