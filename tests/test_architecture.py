"""The architecture as the folders draw it: no import cycle, and each layer imports only below.

Every import counts, also those inside functions and under TYPE_CHECKING: a service that
reaches for something above it, even lazily or only for a type, is what this forbids.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("protocol", "cmdb", "hub", "agent")
MAX_MODULE_LINES = 400

#: hub's packages from the bottom up: a module may import its own package and those below
HUB_LAYERS: list[set[str]] = [
    {"hub", "hub.settings", "hub.exceptions", "hub.i18n", "hub.keys"},
    {"hub.parser"},
    {"hub.suggest"},
    {"hub.wire", "hub.cluster", "hub.audit"},
    {"hub.rooms"},
    {"hub.tasks"},
    {"hub.commands"},
    {"hub.bot"},
    {"hub.bridges"},
    {"hub.state"},
    {"hub.web"},
    {"hub.app", "hub.server"},
    {"hub.cli"},
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


MODULES = our_modules()


def imports_of(name: str, path: Path) -> Iterator[str]:
    """The modules of ours that `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports pkg.mod when it is a module of ours
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                yield target


GRAPH = {name: sorted(set(imports_of(name, path)) - {name}) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    """The rank of a hub module: the deepest HUB_LAYERS entry that is a prefix of it."""
    best, rank = -1, -1
    for index, names in enumerate(HUB_LAYERS):
        for prefix in names:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} is in no layer of HUB_LAYERS: give it a place"
    return rank


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def test_no_import_cycle_anywhere() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("package", "allowed"),
    [("protocol", {"protocol"}), ("cmdb", {"cmdb", "protocol"}), ("agent", {"agent", "protocol"})],
)
def test_packages_import_only_what_they_may(package: str, allowed: set[str]) -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if name.split(".")[0] == package
        for target in targets
        if target.split(".")[0] not in allowed
    ]
    assert not wrong, wrong


def test_the_parser_imports_nothing_else_of_the_hub() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if name.startswith("hub.parser")
        for target in targets
        if target.startswith("hub") and not target.startswith("hub.parser")
    ]
    assert not wrong, wrong


def test_hub_layers_import_only_downwards() -> None:
    wrong = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in GRAPH.items()
        if name.startswith("hub")
        for target in targets
        if target.startswith("hub") and layer_of(target) > layer_of(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_composition_root_and_endpoints_know_hub_state() -> None:
    allowed = ("hub.state", "hub.app", "hub.web")
    wrong = [
        name
        for name, targets in GRAPH.items()
        if "hub.state" in targets and not name.startswith(allowed)
    ]
    assert not wrong, f"these import HubState: {wrong}"


def test_every_hub_package_says_what_it_owns_and_may_import() -> None:
    for init in (REPO / "hub").glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc or init.parent.name == "parser", f"{init}: {doc[:80]!r}"


def test_no_module_is_over_the_limit() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these (over {MAX_MODULE_LINES} lines): {long}"
