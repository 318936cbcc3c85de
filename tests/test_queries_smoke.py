from kb import queries
from tests.conftest import graph_counts, seed_totals


def test_seeds_load(seeded_db):
    assert graph_counts() == seed_totals()
    graph = queries.neighbourhood("city-foshan", 2)
    assert {"firm-midea", "org-sgica"} <= set(graph.nodes)
