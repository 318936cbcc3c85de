"""The graph shapes that queries return and the app draws: nodes, edges, and whether a cap bit."""
from __future__ import annotations

from dataclasses import dataclass, field

from kb.names import entity_name
from kb.schema import LANGUAGES, schema

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

    def shown_name(self, language: str = LANGUAGES[0]) -> str:
        """Its name in the language where it has one (kb.names.entity_name)."""
        return entity_name(self.name, self.properties.get("aliases"), self.type, self.country, language)


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

    def facts(self, language: str = LANGUAGES[0]) -> list[dict]:
        """The edges as rows of a fact table: subject, relation (its display label), object, since, until,
        sources, note; names in the language, an absent value an empty cell."""
        rows = []
        for edge in self.edges.values():
            rows.append({
                "subject": self.nodes[edge.start].shown_name(language),
                "relation": schema().relation_label(edge.type, language),
                "object": self.nodes[edge.end].shown_name(language),
                "since": blank(edge.properties.get("since")), "until": blank(edge.properties.get("until")),
                "sources": ", ".join(edge.sources), "note": blank(edge.properties.get("note")),
            })
        return rows


def union(graphs) -> Subgraph:
    """One subgraph of every node and edge of graphs (a node or edge in several, as the first has it)."""
    merged = Subgraph()
    for graph in graphs:
        for node in graph.nodes.values():
            merged.add_node(node)
        for edge in graph.edges.values():
            merged.add_edge(edge)
    return merged


def blank(value) -> str:
    """A value as a table cell shows it: an absent value is an empty cell, never "None"."""
    return "" if value is None else str(value)
