"""Whether a researcher's existing py2neo code can read the knowledge base (py2neo is end-of-life)."""
from py2neo import Graph

from kb import config


def test_py2neo_reads_the_seed_graph(seeded_readonly):
    conn = config.connection()
    graph = Graph(conn.uri, auth=(conn.username, config.password(conn)), name=conn.database)
    cities = graph.run("MATCH (c:City) RETURN c.name AS name ORDER BY name").data()
    assert [c["name"] for c in cities][:3] == ["Augsburg", "Bottrop", "Changchun"]
    kuka = graph.nodes.match("Company", id="firm-kuka").first()
    assert kuka["name"] == "Kuka"
