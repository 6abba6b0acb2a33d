"""The proactive bot's detector on the eval sets: symptoms right, false alarms, time per line.

    python bench/suggest_eval.py [--cmdb FILE] [--cases FILE] [--no-unseen] [--repeat N]
                                 [--chroma-url URL] [--verbose]
                                 [--fanout [--members 10,100] [--runs 3] [--seconds 0.8]
                                  [--timing-lines 200]]

By default it reads ../shared/eval/{cmdb.yaml,suggestions.jsonl} beside the repository, and
then the set the bot was never tuned on (tests/data/suggestions_unseen.jsonl with
tests/data/cmdb_unseen.yaml). A symptom line is right when it is suggested with the
expected intent, institution and system; a false alarm is a suggestion on a line expected
quiet. The store is the hub's default (a PersistentClient in a temporary directory), or a
`chroma run` server with --chroma-url. Time per line is `assess` whole (filters, embedding,
query, grounding) after one warm-up call; time per suggestion is its embedding + query.
Targets (exit status 1 when missed): >= 95% of symptom lines right, <= 1 false alarm, on
every set.

--fanout then measures the bot in real hubs (bench/suggest_fanout.py): the fan-out bench
with the bot off and on in the same invocation (target: max deliveries/s on >= 0.9 x off),
and the time per suggestion (embedding + query) inside a hub, p50 and p99.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from cmdb.document import load_cmdb_file
from cmdb.index import CmdbIndex
from hub.suggest.detector import SymptomDetector, Verdict
from hub.suggest.store import open_store

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = REPO.parent / "shared" / "eval"
UNSEEN = (
    REPO / "tests" / "data" / "suggestions_unseen.jsonl",
    REPO / "tests" / "data" / "cmdb_unseen.yaml",
)
MIN_RIGHT = 0.95
MAX_FALSE_ALARMS = 1


@dataclass
class Tally:
    name: str
    symptoms: int = 0
    right: int = 0
    quiet_lines: int = 0
    false_alarms: int = 0
    per_line_ms: list[float] = field(default_factory=list)
    per_suggestion_ms: list[float] = field(default_factory=list)
    embed_ms: list[float] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.right >= MIN_RIGHT * self.symptoms and self.false_alarms <= MAX_FALSE_ALARMS


def _percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _judge(verdict: Verdict, expected: dict[str, Any]) -> str | None:
    """What is wrong with a verdict, or None."""
    found = verdict.suggestion
    if not expected["suggest"]:
        return None if found is None else f"false alarm: {found.kind} (score {found.score})"
    if found is None:
        return f"missed ({verdict.reason}, best {verdict.kind} {verdict.score})"
    plan = found.plan
    got = (plan.intent_type, plan.institution, plan.system_name)
    want = (expected["intent_type"], expected["institution"], expected["system_name"])
    return None if got == want else f"expected {want}, got {got}"


def evaluate(
    detector: SymptomDetector, name: str, cases: Path, cmdb: Path, repeat: int, verbose: bool
) -> Tally:
    index = CmdbIndex.from_document(load_cmdb_file(cmdb))
    tally = Tally(name)
    for raw in cases.read_bytes().splitlines():
        if not raw.strip():
            continue
        case = orjson.loads(raw)
        text, scope, expected = case["text"], case.get("scope"), case["expected"]
        verdict = detector.assess(text, scope, index)  # also the warm-up
        for _ in range(repeat):
            start = time.perf_counter()
            timed = detector.assess(text, scope, index)
            tally.per_line_ms.append((time.perf_counter() - start) * 1000)
            if timed.embed_seconds:
                tally.embed_ms.append(timed.embed_seconds * 1000)
                tally.query_ms.append(timed.query_seconds * 1000)
            if timed.suggestion is not None:
                spent = timed.embed_seconds + timed.query_seconds
                tally.per_suggestion_ms.append(spent * 1000)
        problem = _judge(verdict, expected)
        if expected["suggest"]:
            tally.symptoms += 1
            tally.right += problem is None
        else:
            tally.quiet_lines += 1
            tally.false_alarms += problem is not None
        if problem is not None:
            tally.wrong.append(f"{problem}: {text}")
        if verbose:
            mark = "ok " if problem is None else "BAD"
            print(f"  {mark} {verdict.reason:<9} {verdict.score!s:>8}  {text}")
    return tally


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--cmdb", type=Path, default=EVAL_DIR / "cmdb.yaml")
    options.add_argument("--cases", type=Path, default=EVAL_DIR / "suggestions.jsonl")
    options.add_argument(
        "--no-unseen", action="store_true", help="skip the set the bot was never tuned on"
    )
    options.add_argument("--repeat", type=int, default=10, help="timed calls per line")
    options.add_argument("--chroma-url", help="use a `chroma run` server instead")
    options.add_argument("--verbose", action="store_true", help="one line per case")
    options.add_argument(
        "--fanout", action="store_true", help="also the fan-out bench with the bot off and on"
    )
    options.add_argument("--members", default="10,100", help="fan-out room sizes")
    options.add_argument("--runs", type=int, default=3, help="fan-out runs per step (medians)")
    options.add_argument("--seconds", type=float, default=0.8, help="fan-out sending time per run")
    options.add_argument(
        "--timing-lines", type=int, default=200, help="symptom lines timed in a hub"
    )
    args = options.parse_args(argv)

    sets = [("shared", args.cases, args.cmdb)]
    if not args.no_unseen:
        sets.append(("unseen", *UNSEEN))
    with tempfile.TemporaryDirectory(prefix="guardia-suggest-") as data_dir:
        started = time.perf_counter()
        store = open_store(None if args.chroma_url else data_dir, args.chroma_url)
        opened = time.perf_counter() - started
        detector = SymptomDetector(store)
        tallies = []
        for name, cases, cmdb in sets:
            if args.verbose:
                print(f"{name}: {cases}")
            tallies.append(evaluate(detector, name, cases, cmdb, args.repeat, args.verbose))

    where = args.chroma_url or "PersistentClient (temporary directory)"
    print(f"suggestion eval: store {where}, opened and seeded in {opened:.2f} s")
    print(
        f"{'set':<8}{'symptoms right':>16}{'false alarms':>14}"
        f"{'line p50':>10}{'line p99':>10}{'sugg p50':>10}{'sugg p99':>10}  target"
    )
    for t in tallies:
        share = t.right / t.symptoms if t.symptoms else 1.0
        print(
            f"{t.name:<8}{f'{t.right}/{t.symptoms} {share:.0%}':>16}"
            f"{f'{t.false_alarms}/{t.quiet_lines}':>14}"
            f"{_percentile(t.per_line_ms, 0.5):>8.1f}ms{_percentile(t.per_line_ms, 0.99):>8.1f}ms"
            f"{_percentile(t.per_suggestion_ms, 0.5):>8.1f}ms"
            f"{_percentile(t.per_suggestion_ms, 0.99):>8.1f}ms"
            f"  {'met' if t.passed else 'MISSED'}"
        )
    print(f"(line: assess() whole; sugg: embedding + query of lines suggested; x{args.repeat})")
    embeds = [ms for t in tallies for ms in t.embed_ms]
    queries = [ms for t in tallies for ms in t.query_ms]
    print(
        f"of which: embedding p50 {_percentile(embeds, 0.5):.1f} ms, p99 "
        f"{_percentile(embeds, 0.99):.1f} ms; chromadb query p50 "
        f"{_percentile(queries, 0.5):.2f} ms, p99 {_percentile(queries, 0.99):.2f} ms "
        f"({len(embeds)} embedded lines)"
    )
    for t in tallies:
        for problem in t.wrong:
            print(f"{t.name} WRONG: {problem}")
    passed = all(t.passed for t in tallies)
    if args.fanout:
        passed &= _fanout(args)
    return 0 if passed else 1


def _fanout(args: argparse.Namespace) -> bool:
    import asyncio

    from suggest_fanout import fanout, report, timing

    sizes = [int(size) for size in args.members.split(",")]
    with tempfile.TemporaryDirectory(prefix="guardia-suggest-fanout-") as tmp:
        work = Path(tmp)
        summaries, bot, cores = asyncio.run(fanout(work, sizes, args.runs, args.seconds, 300.0))
        timed = asyncio.run(timing(work, args.timing_lines))
    return report(summaries, bot, timed, sizes, cores)


if __name__ == "__main__":
    sys.exit(main())
