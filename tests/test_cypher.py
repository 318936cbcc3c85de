"""User Cypher: read-only behind the EXPLAIN gate, a read transaction, a timeout and a row cap."""
import pytest

from kb.cypher import run_read_only
from kb.errors import QueryRefused, QueryTimeout
from kb.saved_queries import SAVED_QUERIES
from tests.conftest import graph_counts


@pytest.mark.parametrize("text, reason", [
    ("CREATE (n) RETURN n", "read and write"),
    ("MATCH (n) DETACH DELETE n", "would write"),
    ("MATCH (c:City) SET c.name = 'x'", "would write"),
    ("CREATE INDEX idx FOR (n:City) ON (n.name)", "change the schema"),
    ("MERGE (n:City {id: 'x'})", "would write"),
    ("EXPLAIN MATCH (n) RETURN n", "Leave out EXPLAIN"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", "LOAD CSV is not allowed"),
    ("MATCH (n RETURN n", "Not valid Cypher"),
    ("   ", "empty"),
])
def test_anything_but_a_read_is_refused_and_nothing_written(seeded_readonly, text, reason):
    before = graph_counts()
    with pytest.raises(QueryRefused, match=reason):
        run_read_only(text)
    assert graph_counts() == before


def test_procedures_and_matches_run(seeded_readonly):
    labels = run_read_only("CALL db.labels()")
    assert ["City"] in labels.rows and labels.columns == ["label"]
    cities = run_read_only("MATCH (c:City) WHERE c.country = $country RETURN c.name ORDER BY c.name",
                           {"country": "DE"})
    assert [row[0] for row in cities.rows] == ["Augsburg", "Bottrop", "Göttingen", "Hanover"]


def test_rows_are_capped_with_a_notice(seeded_readonly):
    result = run_read_only("MATCH (n:Entity) RETURN n.id", max_rows=5)
    assert len(result.rows) == 5 and result.truncated
    assert result.notice() == "Truncated at 5 rows: the query returns more."
    assert not run_read_only("MATCH (n:Entity) RETURN n.id", max_rows=100).truncated


def test_a_long_query_is_stopped_at_the_timeout(seeded_readonly):
    with pytest.raises(QueryTimeout, match="timed out after 1 s"):
        run_read_only("UNWIND range(1, 2000000000) AS x WITH x WHERE x % 1000000007 = 3 RETURN count(*)",
                      timeout=1)


def test_nodes_and_relationships_come_back_as_a_graph(seeded_readonly):
    result = run_read_only("MATCH (a:Company {id: 'firm-midea'})-[r:OWNS]->(b) RETURN a, r, b")
    assert set(result.graph.nodes) == {"firm-midea", "firm-kuka"}
    assert [e.type for e in result.graph.edges.values()] == ["OWNS"]
    assert result.rows[0][1]["properties"]["sources"] == ["src-foshan-2019"]


@pytest.mark.parametrize("saved", SAVED_QUERIES, ids=lambda q: q.name)
def test_every_saved_query_returns_rows(seeded_readonly, saved):
    assert run_read_only(saved.cypher, saved.params).rows, saved.name
