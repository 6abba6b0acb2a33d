"""The incident memory's threshold on labelled incidents: which earlier incident a new card names.

    python bench/incident_memory_eval.py [--cases FILE] [--threshold X]

The cases (tests/data/incident_memory/incidents.yaml) are incidents as the hub stores them,
grouped by symptom. Two views, both on the texts `symptom_text` makes and the embedding the
memory uses:
- pairs: every pair of incidents, same symptom or not; the highest similarity of a pair of
  different symptoms, and how many same-symptom pairs reach each threshold;
- replay: the incidents resolve one after another (round-robin over the symptoms), each
  first asking the real `IncidentIndex` (an embedded chromadb in a temporary directory)
  for its most similar earlier incident, as a new card does. `right`: the one named has
  the same symptom; `wrong`: another symptom; `none`: nothing reached the threshold.
The threshold in hub/suggest/symptoms.py (SIMILAR_AT) is the one where `wrong` is 0 with
a margin; exit status 1 when it is not.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from hub.suggest.embedding import embed
from hub.suggest.incidents import IncidentIndex
from hub.suggest.symptoms import (
    SAME_HEADLINE_AT,
    SIMILAR_AT,
    PastIncident,
    choose,
    headline,
    symptom_text,
)

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "data" / "incident_memory" / "incidents.yaml"
THRESHOLDS = (0.91, 0.915, 0.92, 0.925, 0.93, 0.935, 0.94)


def load(path: Path) -> list[tuple[str, str]]:
    """(symptom, text) in replay order: round-robin over the symptoms."""
    groups: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text())
    columns = [[(name, c) for c in cases] for name, cases in groups.items()]
    ordered = [item for row in itertools.zip_longest(*columns) for item in row if item]
    return [(name, symptom_text(c["title"], c.get("summary", ""))) for name, c in ordered]


def pairs(cases: list[tuple[str, str]]) -> tuple[list[float], list[float], list[float]]:
    """Similarities of same-symptom pairs, of different-symptom pairs, and of those of the
    latter whose two share their headline (for them the bar is SAME_HEADLINE_AT)."""
    vectors = embed([text for _, text in cases])
    similarity = vectors @ vectors.T
    same, different, shared = [], [], []
    for i, j in itertools.combinations(range(len(cases)), 2):
        value = float(similarity[i, j])
        if cases[i][0] == cases[j][0]:
            same.append(value)
        else:
            different.append(value)
            if headline(cases[i][1]) == headline(cases[j][1]):
                shared.append(value)
    return same, different, shared


def replay(cases: list[tuple[str, str]], threshold: float) -> dict[str, int]:
    """Each incident asks for its nearest earlier one (`choose` at `threshold`), then is
    remembered."""
    import chromadb
    from chromadb.config import Settings

    tally = {"right": 0, "wrong": 0, "none": 0}
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(tmp, settings=Settings(anonymized_telemetry=False))
        index = IncidentIndex(client)
        for number, (symptom, text) in enumerate(cases):
            found = choose(text, index.nearest(text, "SYS"), threshold)
            if found is None:
                tally["none"] += 1
            else:
                tally["right" if found.kind == symptom else "wrong"] += 1
            index.remember(
                PastIncident(
                    incident_id=f"I{number:04d}",
                    system="SYS",
                    text=text,
                    first_seen="2026-11-03T00:00:00Z",
                    kind=symptom,  # the label rides in `kind` for the tally
                )
            )
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--threshold", type=float, default=SIMILAR_AT)
    args = parser.parse_args(argv)
    cases = load(args.cases)
    symptoms = len({name for name, _ in cases})
    same, different, shared = pairs(cases)
    print(f"{len(cases)} incidents, {symptoms} symptoms; {len(same)} same-symptom pairs, "
          f"{len(different)} different-symptom pairs")  # fmt: skip
    print(f"closest different-symptom pair: {max(different):.4f}; "
          f"farthest same-symptom pair: {min(same):.4f}; "
          f"different-symptom pairs sharing a headline: {len(shared)}, the closest "
          f"{max(shared, default=0.0):.4f}")  # fmt: skip
    print("\n| threshold | same-symptom pairs at or above | different-symptom pairs at or "
          "above | replay right | wrong | none |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for threshold in sorted({*THRESHOLDS, args.threshold}):
        tally = replay(cases, threshold)
        reached = sum(s >= threshold for s in same)
        false = sum(d >= threshold for d in different)
        mark = " (SIMILAR_AT)" if threshold == SIMILAR_AT else ""
        print(f"| {threshold:.3f}{mark} | {reached} ({reached / len(same):.0%}) | {false} | "
              f"{tally['right']} | {tally['wrong']} | {tally['none']} |")  # fmt: skip
    chosen = replay(cases, args.threshold)
    held = max(different) < args.threshold and max(shared, default=0.0) < SAME_HEADLINE_AT
    return 0 if chosen["wrong"] == 0 and held else 1


if __name__ == "__main__":
    sys.exit(main())
