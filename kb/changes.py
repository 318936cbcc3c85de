"""What changed around an entity between two years: the ties of its neighbourhood that began or ended.

Read from the neighbourhood (every tie, dated or not), so it costs what Explore's view costs and never
scans the graph. A tie began in the range when its `since` falls after the first year and by the second;
it ended when its `until` falls in the first year or later and before the second (a tie is in force in
its `until` year). A tie that began and ended within the range is listed as both.
"""
from __future__ import annotations

from dataclasses import dataclass

from kb import queries
from kb.schema import LANGUAGES, schema
from kb.subgraph import Subgraph, blank


@dataclass
class Changes:
    start: int
    end: int
    began: list        # Edge, in the order the neighbourhood found them
    ended: list
    graph: Subgraph    # the entity, the changed ties and their ends
    truncated: bool    # the neighbourhood was cut by its node cap: more may have changed

    def rows(self, language: str = LANGUAGES[0]) -> list[dict]:
        """One row per change: began or ended, subject, relation (its label), object, since, until, source ids."""
        names = {node.id: node.shown_name(language) for node in self.graph.nodes.values()}
        return [{"change": change, "subject": names[edge.start], "relation": schema().relation_label(edge.type, language),
                 "object": names[edge.end], "since": blank(edge.properties.get("since")),
                 "until": blank(edge.properties.get("until")), "sources": edge.sources}
                for change, edges in (("began", self.began), ("ended", self.ended)) for edge in edges]


def year_of(value) -> int | None:
    """The year a `since` or `until` names (written year first), or None when there is none."""
    text = str(value or "")[:4]
    return int(text) if text.isdigit() else None


def changes(entity_id: str, start: int, end: int, depth: int = 1, entity_types=None, relation_types=None,
            node_cap: int | None = None) -> Changes:
    """The ties within depth hops of the entity that began or ended between the years start and end."""
    if start >= end:
        raise ValueError(f"the first year ({start}) must come before the second ({end})")
    around = queries.neighbourhood(entity_id, depth, entity_types, relation_types, node_cap)
    edges = list(around.edges.values())
    began = [e for e in edges if start < (year_of(e.properties.get("since")) or start) <= end]
    ended = [e for e in edges if start <= (year_of(e.properties.get("until")) or end) < end]
    graph = Subgraph()
    graph.add_node(around.nodes[entity_id])
    for edge in began + ended:
        graph.add_node(around.nodes[edge.start])
        graph.add_node(around.nodes[edge.end])
        graph.add_edge(edge)
    return Changes(start, end, began, ended, graph, around.truncated)

