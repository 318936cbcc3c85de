"""Whether a researcher's existing py2neo code can read the knowledge base (py2neo is end-of-life)."""
from py2neo import Graph

from kb import config
from tests.conftest import seed_entities


def test_py2neo_reads_the_seed_graph(seeded_readonly):
    conn = config.connection()
    graph = Graph(conn.uri, auth=(conn.username, config.password(conn)), name=conn.database)
    cities = graph.run("MATCH (c:City) RETURN c.name AS name ORDER BY name").data()
    expected = sorted(entity["name"] for entity in seed_entities() if entity["type"] == "City")
    assert [c["name"] for c in cities] == expected
    kuka = graph.nodes.match("Company", id="firm-kuka").first()
    assert kuka["name"] == "Kuka"
