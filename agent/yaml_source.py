"""A YAML document read with its node marks, so an error can name the line it is about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from agent.exceptions import ConfigError, ConfigProblem


@dataclass(frozen=True)
class YamlSource:
    """The parsed data and the composed node tree it came from."""

    path: str
    data: Any
    root: yaml.Node | None

    def line_of(self, loc: Sequence[int | str]) -> int:
        """The 1-based line of the deepest node that `loc` (a pydantic error location) reaches.

        Location parts that are not keys or indexes (pydantic's union tags) are skipped; for a
        mapping key that is the last part, the key's own line is used.
        """
        node = self.root
        if node is None:
            return 1
        line = node.start_mark.line
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                pair = _find_key(node, part)
                if pair is None:
                    continue
                key, node = pair
                line = key.start_mark.line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    continue
                node = node.value[part]
                line = node.start_mark.line
        return line + 1


def _find_key(node: yaml.MappingNode, part: int | str) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == str(part):
            return key, value
    return None


def read_yaml(text: str, path: str) -> YamlSource:
    """Parse one YAML document; a syntax error or a duplicate key is a ConfigError."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _refuse_duplicate_keys(root, path)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = f"not valid YAML: {exc.problem or exc.context}"
        raise ConfigError(path, [ConfigProblem(line, reason)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, [ConfigProblem(1, f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return YamlSource(path=path, data=data, root=root)


def _refuse_duplicate_keys(node: yaml.Node, path: str) -> None:
    """PyYAML keeps the last of two equal keys silently; a config must not."""
    stack = [node]
    seen_nodes: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        line = key.start_mark.line + 1
                        reason = f"duplicate key {key.value!r}"
                        raise ConfigError(path, [ConfigProblem(line, reason)])
                    keys.add(key.value)
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
