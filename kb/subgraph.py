"""The graph shapes that queries return and the app draws: nodes, edges, and whether a cap bit."""
from __future__ import annotations

from dataclasses import dataclass, field

HIDDEN_PROPERTIES = ("search_keys", "search_text")


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    type: str
    country: str | None
    properties: dict

    @classmethod
    def from_record(cls, props: dict, type_name: str) -> "Node":
        shown = {k: v for k, v in props.items() if k not in HIDDEN_PROPERTIES}
        return cls(props.get("id"), props.get("name") or props.get("id"), type_name, props.get("country"), shown)


@dataclass(frozen=True)
class Edge:
    id: str
    start: str
    end: str
    type: str
    properties: dict

    @property
    def sources(self) -> list[str]:
        return list(self.properties.get("sources") or [])


@dataclass
class Subgraph:
    nodes: dict = field(default_factory=dict)    # id -> Node, in the order they were found
    edges: dict = field(default_factory=dict)    # element id -> Edge
    truncated: bool = False
    note: str = ""

    def add_node(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def add_edge(self, edge: Edge) -> None:
        if edge.start in self.nodes and edge.end in self.nodes:
            self.edges.setdefault(edge.id, edge)

    def source_ids(self) -> list[str]:
        """The sources its nodes and edges cite, each once, in order of first citation."""
        cited = [sid for node in self.nodes.values() for sid in node.properties.get("sources") or []]
        cited += [sid for edge in self.edges.values() for sid in edge.sources]
        return list(dict.fromkeys(cited))

    def facts(self) -> list[dict]:
        """The edges as rows of a fact table: subject, relation, object, since, until, sources, note."""
        rows = []
        for edge in self.edges.values():
            rows.append({
                "subject": self.nodes[edge.start].name, "relation": edge.type, "object": self.nodes[edge.end].name,
                "since": edge.properties.get("since"), "until": edge.properties.get("until"),
                "sources": ", ".join(edge.sources), "note": edge.properties.get("note"),
            })
        return rows
