"""The canonical CMDB file: what `guardia cmdb export` writes and `import` reads back.

`load_cmdb(dump_cmdb(d)) == d`, and dumping is deterministic: nodes in flow style, one line
each, keys in a fixed order, so a round trip is byte-identical.
"""

from __future__ import annotations

from typing import Any

import yaml

from cmdb.document import Agent, CmdbDocument, Node


class _Flow(dict[str, Any]):
    """A mapping written on one line, as nodes and agents are in hand-written files."""


class _CanonicalDumper(yaml.SafeDumper):
    pass


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_CanonicalDumper.add_representer(_Flow, _represent_flow)
_CanonicalDumper.add_representer(list, _represent_list)


def _node_data(node: Node) -> _Flow:
    return _Flow(
        asset_code=node.asset_code,
        host=node.host,
        port=node.port,
        layer=node.layer,
        env=node.env,
        agent=node.agent,
        services=list(node.services),
    )


def _agent_data(agent: Agent) -> _Flow:
    data = _Flow(id=agent.id)
    if agent.institution is not None:
        data["institution"] = agent.institution
    return data


def dump_cmdb(doc: CmdbDocument) -> str:
    """The canonical YAML of `doc`: fixed key order, one line per node, Unicode as written."""
    data = {
        "institutions": [
            {
                "code": institution.code,
                "name": institution.name,
                "aliases": list(institution.aliases),
                "systems": [
                    {
                        "code": system.code,
                        "name": system.name,
                        "aliases": list(system.aliases),
                        "nodes": [_node_data(node) for node in system.nodes],
                    }
                    for system in institution.systems
                ],
            }
            for institution in doc.institutions
        ],
        "agents": [_agent_data(agent) for agent in doc.agents],
    }
    return yaml.dump(
        data,
        Dumper=_CanonicalDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=4096,
    )
