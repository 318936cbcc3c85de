"""Neighbourhoods, paths, entity views and overview counts on the seed graph."""
import pytest

from kb import queries
from kb.errors import SchemaError
from tests.conftest import seed_counts, seed_sources


def test_neighbourhood_of_foshan_holds_midea_and_the_alliance(seeded_readonly):
    graph = queries.neighbourhood("city-foshan", depth=2)
    assert {"city-foshan", "firm-midea", "org-sgica"} <= set(graph.nodes)
    assert not graph.truncated
    assert all(e.start in graph.nodes and e.end in graph.nodes for e in graph.edges.values())
    assert all(e.sources for e in graph.edges.values())


def test_node_cap_bites_with_a_note(seeded_readonly):
    graph = queries.neighbourhood("city-foshan", depth=3, node_cap=10)
    assert len(graph.nodes) == 10 and graph.truncated and "first 10" in graph.note


def test_filters_by_type(seeded_readonly):
    graph = queries.neighbourhood("city-foshan", depth=1, entity_types=["Company"])
    assert {n.type for n in graph.nodes.values()} == {"City", "Company"}
    graph = queries.neighbourhood("city-foshan", depth=1, relation_types=["MEMBER_OF"])
    assert set(graph.nodes) == {"city-foshan", "org-sgica"}
    with pytest.raises(SchemaError):
        queries.neighbourhood("city-foshan", relation_types=["DELETE_ALL"])


def test_path_from_goettingen_to_midea(seeded_readonly):
    paths = queries.shortest_paths("city-goettingen", "firm-midea")
    assert paths
    for path in paths:
        assert path.nodes[0].id == "city-goettingen" and path.nodes[-1].id == "firm-midea"
        assert len(path.edges) == len(path.nodes) - 1 <= 6
        assert all(edge.sources for edge in path.edges)
    assert len({len(p.edges) for p in paths}) == 1


def test_unknown_entity_is_reported(seeded_readonly):
    with pytest.raises(queries.NotFound, match="city-atlantis"):
        queries.entity("city-atlantis")


def test_entity_view_lists_relations_both_ways(seeded_readonly):
    view = queries.entity("firm-kuka")
    assert view.node.name == "Kuka" and "search_keys" not in view.node.properties
    assert {(e.type, other.id) for e, other in view.incoming} >= {("OWNS", "firm-midea"), ("ACQUIRED", "firm-midea")}
    assert ("HEADQUARTERED_IN", "city-augsburg") in {(e.type, other.id) for e, other in view.outgoing}


def test_overview_counts_sources_and_years(seeded_readonly):
    entities, relations = seed_counts()
    counts = queries.counts()
    assert counts == {"entities": entities, "relations": relations}
    assert all(list(c.values()) == sorted(c.values(), reverse=True) for c in counts.values()), "largest first"
    sources = {s["id"]: s for s in queries.sources()}
    assert set(sources) == set(seed_sources())
    assert sum(s["facts"] for s in sources.values()) >= sum(relations.values()), "every fact cites a source"
    assert set(queries.dated_facts_per_year()) >= {2016, 2019}


