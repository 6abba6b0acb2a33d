"""The Grafana dashboard and the Prometheus sample name only metrics the hub has, and
operations.md lists every one of them."""

from __future__ import annotations

import json
import re

import yaml
from harness import REPO

from hub.ops import metrics

DOCS = REPO / "docs"


def exposed_names() -> set[str]:
    """Every sample name the hub's registry can expose (counters with _total, histograms with
    _bucket, _sum and _count)."""
    names: set[str] = set()
    for family in metrics.REGISTRY.collect():
        names |= {sample.name for sample in family.samples}
        names.add(family.name)
        if family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def test_the_dashboard_queries_only_metrics_the_hub_exposes() -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {n for e in exprs for n in re.findall(r"\b((?:guardia|process)_[a-z_]+)", e)}
    assert used and not used - exposed_names(), used - exposed_names()
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_the_scrape_config_scrapes_each_hub_with_the_token() -> None:
    config = yaml.safe_load((DOCS / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert len(job["static_configs"][0]["targets"]) > 1  # every hub on its own


def test_operations_md_lists_every_guardia_metric() -> None:
    text = (DOCS / "operations.md").read_text()
    ours = {f.name for f in metrics.REGISTRY.collect() if f.name.startswith("guardia_")}
    listed = set(re.findall(r"`(guardia_[a-z_]+)`", text))
    missing = {n for n in ours if n not in listed and f"{n}_total" not in listed}
    assert not missing, missing
