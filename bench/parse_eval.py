"""The built-in parser on the shared evaluation set: accuracy per field and per command, speed.

    python bench/parse_eval.py [--cmdb FILE] [--commands FILE] [--repeat N] [--verbose]

By default it reads ../shared/eval/{cmdb.yaml,commands.jsonl} beside the repository. A
command counts as fully right when every field its `expected` names matches exactly (lists
in order). Time is per call, after one warm-up call per command, with the index and its
parser built beforehand as the hub holds them. Exit status 1 when any command is wrong.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.parser import builtin_parser

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--cmdb", type=Path, default=EVAL_DIR / "cmdb.yaml")
    options.add_argument("--commands", type=Path, default=EVAL_DIR / "commands.jsonl")
    options.add_argument("--repeat", type=int, default=200, help="timed calls per command")
    options.add_argument("--verbose", action="store_true", help="one line per command")
    args = options.parse_args(argv)

    index = CmdbIndex.from_document(load_cmdb_file(args.cmdb))
    parser = builtin_parser(index)
    cases: list[dict[str, Any]] = [
        orjson.loads(line) for line in args.commands.read_bytes().splitlines() if line.strip()
    ]
    field_right: dict[str, int] = {}
    field_total: dict[str, int] = {}
    wrong: list[tuple[str, dict[str, tuple[Any, Any]]]] = []
    samples: list[float] = []
    rows: list[str] = []
    for case in cases:
        text, expected = case["text"], case["expected"]
        got = parser.parse(text).model_dump(mode="json")
        misses = {key: (value, got[key]) for key, value in expected.items() if got[key] != value}
        for key in expected:
            field_total[key] = field_total.get(key, 0) + 1
            field_right[key] = field_right.get(key, 0) + (key not in misses)
        if misses:
            wrong.append((text, misses))
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter_ns()
            parser.parse(text)
            times.append((time.perf_counter_ns() - start) / 1e6)
        samples.extend(times)
        rows.append(
            f"  {'ok ' if not misses else 'BAD'} {statistics.median(times):7.3f} ms  {text}"
        )

    print(f"parser eval: {len(cases)} commands, {args.cmdb}")
    print(f"{'field':<22}{'right':>8}{'total':>8}{'accuracy':>10}")
    for key in field_total:
        right, total = field_right[key], field_total[key]
        print(f"{key:<22}{right:>8}{total:>8}{right / total:>10.1%}")
    fully = len(cases) - len(wrong)
    print(f"{'commands fully right':<22}{fully:>8}{len(cases):>8}{fully / len(cases):>10.1%}")
    print(
        f"time per command: p50 {_percentile(samples, 0.50):.3f} ms, "
        f"p99 {_percentile(samples, 0.99):.3f} ms, max {max(samples):.3f} ms "
        f"({len(samples)} calls)"
    )
    if args.verbose:
        print("per command (median time):")
        print("\n".join(rows))
    for text, misses in wrong:
        print(f"WRONG: {text}")
        for key, (want, got) in misses.items():
            print(f"    {key}: expected {want!r}, got {got!r}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
