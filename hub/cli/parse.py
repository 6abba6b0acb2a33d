"""`guardia parse --cmdb FILE.yaml [TEXT]`: a command's plan as JSON, with no database.

`guardia parse --export-feedback FILE` instead writes the commands whose plan cards got a
thumbs down (from GUARDIA_DATABASE_URL) as an eval file in the shape of
shared/eval/commands.jsonl ("-": stdout).

With TEXT, one plan. Without, one command per line on stdin and one JSON object per line
on stdout, in order, flushed per line so it can sit in a pipe. The built-in parser answers
unless GUARDIA_LLM_BASE_URL names an LLM, which then answers with the built-in parser as
its fallback. Exit status: 0; 1 when a command was refused (too long); 2 for a bad CMDB
file or LLM setting.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from cmdb.document import load_cmdb_file
from cmdb.exceptions import CmdbFileError
from cmdb.index import CmdbIndex
from hub.parser import ParseError, builtin_parser
from hub.parser.plan import Plan

if TYPE_CHECKING:
    from hub.parser.llm import LlmSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `guardia parse`."""
    parser.add_argument("--cmdb", metavar="FILE.yaml", help="the CMDB file to ground plans in")
    parser.add_argument(
        "--export-feedback",
        metavar="FILE",
        help="write the thumbs-down commands and their plans as an eval file (JSON lines)",
    )
    parser.add_argument(
        "text", nargs="?", help="the command; without it, one command per line on stdin"
    )


def _lines() -> Iterator[str]:
    # stdin as UTF-8 whatever the locale: Korean must not depend on LANG
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    for line in stream:
        yield line.rstrip("\r\n")


def _write(out: BinaryIO, answer: Plan | ParseError) -> None:
    if isinstance(answer, Plan):
        out.write(answer.to_json() + b"\n")
    else:
        out.write(orjson.dumps({"error": {"code": answer.code, "message": str(answer)}}) + b"\n")
    out.flush()


async def _parse_with_llm(
    index: CmdbIndex, settings: LlmSettings, texts: Iterable[str], out: BinaryIO
) -> int:
    from hub.parser.llm import LlmParser

    status = 0
    async with LlmParser(index, settings) as parser:
        for text in texts:
            try:
                _write(out, await parser.parse(text))
            except ParseError as exc:
                _write(out, exc)
                status = 1
    return status


def export_feedback(target: str) -> int:
    """Write the thumbs-down cases; `expected` is the plan as made, to be corrected."""
    from cmdb.database import one_session
    from cmdb.learning import thumbs_down

    async def read() -> tuple[list[Any], int]:
        async with one_session() as session:
            return await thumbs_down(session)

    cases, without = asyncio.run(read())
    body = b"".join(orjson.dumps(case.eval_line()) + b"\n" for case in cases)
    if target == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        Path(target).write_bytes(body)
    print(
        f"guardia parse: {len(cases)} thumbs-down command(s) written to {target}"
        + (f"; {without} vote(s) on cards of no typed command left out" if without else ""),
        file=sys.stderr,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run `guardia parse`; returns the exit status."""
    if getattr(args, "export_feedback", None):
        return export_feedback(args.export_feedback)
    if args.cmdb is None:
        print("guardia parse: --cmdb FILE.yaml is required", file=sys.stderr)
        return 2
    settings: LlmSettings | None = None
    try:
        document = load_cmdb_file(args.cmdb)
        if os.environ.get("GUARDIA_LLM_BASE_URL"):
            # imported only when asked for: the openai client triples the start-up time
            from hub.parser.llm import LlmSettings

            settings = LlmSettings.from_env()
    except CmdbFileError as exc:
        print(f"guardia parse: {exc}", file=sys.stderr)  # every problem, as cmdb import says
        return 2
    except ValueError as exc:
        print(f"guardia parse: {exc}", file=sys.stderr)
        return 2
    index = CmdbIndex.from_document(document)
    texts: Iterable[str] = [args.text] if args.text is not None else _lines()
    out = sys.stdout.buffer
    if settings is not None:
        return asyncio.run(_parse_with_llm(index, settings, texts, out))
    parser = builtin_parser(index)
    status = 0
    for text in texts:
        try:
            _write(out, parser.parse(text))
        except ParseError as exc:
            _write(out, exc)
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (`python -m hub.cli.parse`); `guardia parse` is the same."""
    parser = argparse.ArgumentParser(prog="guardia parse", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
