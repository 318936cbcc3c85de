"""kb.render.graph: self-contained, deterministic pyvis HTML coloured by the schema, with cited tooltips."""
import json
import re

import pytest

from kb.render import graph
from kb.schema import schema
from kb.subgraph import Edge, Node, Subgraph

# Anything the browser would fetch from another host: script/img/iframe src, link href, CSS url()/@import.
REMOTE_FETCH = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)(?:https?:)?//""",
                          re.IGNORECASE)


def sample() -> Subgraph:
    g = Subgraph()
    g.add_node(Node("firm-midea", "Midea", "Company", "CN",
                    {"id": "firm-midea", "name": "Midea", "aliases": ["美的"], "sources": ["src-a"]}))
    g.add_node(Node("firm-kuka", "Kuka", "Company", "DE", {"id": "firm-kuka", "name": "Kuka", "sources": ["src-a"]}))
    g.add_node(Node("city-foshan", "Foshan", "City", "CN", {"id": "city-foshan", "name": "Foshan", "sources": []}))
    g.add_node(Node("org-x", "Some Zone", "Organization", None, {"id": "org-x", "name": "Some Zone"}))
    g.add_edge(Edge("e1", "firm-midea", "firm-kuka", "ACQUIRED", {"since": "2017", "sources": ["src-a", "src-b"]}))
    g.add_edge(Edge("e2", "firm-midea", "city-foshan", "HEADQUARTERED_IN", {"sources": ["src-b"]}))
    g.add_edge(Edge("e3", "org-x", "city-foshan", "LOCATED_IN", {"sources": []}))
    return g


def reversed_copy(g: Subgraph) -> Subgraph:
    """The same graph built in the opposite order, with other element ids (as after a reload)."""
    copy = Subgraph()
    for node in reversed(list(g.nodes.values())):
        copy.add_node(node)
    for edge in reversed(list(g.edges.values())):
        copy.add_edge(Edge("other-" + edge.id, edge.start, edge.end, edge.type, edge.properties))
    return copy


def drawn(page: str, kind: str) -> list[dict]:
    """The nodes or edges handed to vis-network, parsed back from the page."""
    match = re.search(kind + r" = new vis\.DataSet\((\[.*?\])\);", page)
    assert match, f"no {kind} DataSet in the page"
    return json.loads(match.group(1))


@pytest.mark.parametrize("presentation", [False, True])
def test_page_is_self_contained(presentation):
    page = graph.to_html(sample(), presentation=presentation)
    remote = REMOTE_FETCH.findall(page)
    assert remote == [], f"page fetches from other hosts: {remote}"
    assert "new vis.Network(" in page and "vis-network" in page, "vis-network must be inlined"
    assert "bootstrap" not in page.lower(), "the CDN-linked Bootstrap must be gone"
    assert '<script src' not in page and '<link rel="stylesheet" href' not in page, "no external file at all"


def test_the_app_frame_loads_vis_network_from_the_published_copy(tmp_path):
    page = graph.to_html(sample())
    framed = graph.drawing(sample()).page(vis_url="app/static/vis-network.min.js")
    library = graph.vis_library().rstrip("\n")
    assert library in page and library not in framed
    assert framed.count('<script src="app/static/vis-network.min.js"></script>') == 1
    assert len(page) - len(framed) > 400_000 and drawn(framed, "nodes") == drawn(page, "nodes")
    published = graph.publish_vis_library(tmp_path / "static")
    assert published.name == "vis-network.min.js" and published.read_text(encoding="utf-8") == graph.vis_library()
    published.write_text("stale", encoding="utf-8")
    assert graph.publish_vis_library(tmp_path / "static").read_text(encoding="utf-8") == graph.vis_library()


def test_same_graph_same_page():
    first = graph.to_html(sample())
    assert first == graph.to_html(sample())
    assert first == graph.to_html(reversed_copy(sample())), "row order or element ids changed the page"


def test_layout_is_seeded_and_physics_stops():
    page = graph.to_html(sample())
    options = json.loads(re.search(r"var options = (\{.*?\});\n", page).group(1))
    assert options["layout"]["randomSeed"] == graph.LAYOUT_SEED
    assert options["physics"]["stabilization"]["enabled"] is True
    assert 'network.once("stabilizationIterationsDone", kbSettle)' in page and "physics: {enabled: false}" in page


def test_colours_and_shapes_come_from_the_schema_and_country_is_marked():
    nodes = {n["id"]: n for n in drawn(graph.to_html(sample()), "nodes")}
    for node_id, node in sample().nodes.items():
        assert nodes[node_id]["color"]["background"] == schema().color(node.type), node_id
        assert nodes[node_id]["shape"] == schema().entities[node.type].shape, node_id
    assert len({n["shape"] for n in nodes.values()}) == 3, "company, city and organisation must look different"
    borders = {node_id: (nodes[node_id]["color"]["border"], nodes[node_id]["shapeProperties"]["borderDashes"])
               for node_id in ("firm-midea", "firm-kuka", "org-x")}
    assert borders["firm-midea"] == (graph.COUNTRY_MARKS["CN"].border, False)
    assert borders["firm-kuka"] == (graph.COUNTRY_MARKS["DE"].border, False)
    assert borders["org-x"][0] == graph.OTHER_COUNTRY.border and borders["org-x"][1]
    assert len({repr(mark) for mark in borders.values()}) == 3, "China, Germany and other must look different"


def test_tooltips_carry_properties_and_sources():
    titles = {"src-a": "Foshan yearbook (City of Foshan, 2019)"}
    page = graph.to_html(sample(), source_titles=titles)
    nodes = {n["id"]: n for n in drawn(page, "nodes")}
    edges = {(e["from"], e["to"]): e for e in drawn(page, "edges")}
    assert "美的" in nodes["firm-midea"]["title"] and "Company" in nodes["firm-midea"]["title"]
    assert "Foshan yearbook (City of Foshan, 2019)" in nodes["firm-midea"]["title"]
    acquired = edges[("firm-midea", "firm-kuka")]
    assert acquired["label"] == "acquired"
    assert "since: 2017" in acquired["title"]
    assert "Foshan yearbook" in acquired["title"] and "src-b" in acquired["title"], "unknown ids stay visible"
    assert "none recorded" in edges[("org-x", "city-foshan")]["title"]


def test_parallel_facts_are_drawn_apart():
    g = sample()
    g.add_edge(Edge("e4", "firm-midea", "firm-kuka", "OWNS", {"sources": ["src-a"]}))
    edges = [e for e in drawn(graph.to_html(g), "edges") if (e["from"], e["to"]) == ("firm-midea", "firm-kuka")]
    assert sorted(e.get("smooth", {}).get("roundness", 0) for e in edges) == [0, 0.25]


def test_presentation_has_larger_labels():
    normal = json.loads(re.search(r"var options = (\{.*?\});\n", graph.to_html(sample())).group(1))
    large = json.loads(re.search(r"var options = (\{.*?\});\n", graph.to_html(sample(), presentation=True)).group(1))
    assert large["nodes"]["font"]["size"] > normal["nodes"]["font"]["size"]
    assert large["edges"]["font"]["size"] > normal["edges"]["font"]["size"]


def test_legend_lists_every_type_with_its_colour():
    shown = graph.legend()
    assert shown.types == {entity.caption["en"]: (entity.color, entity.shape) for entity in schema().entities.values()}
    assert set(shown.countries) == {"China", "Germany", "Other or none"}
    assert shown.relations == {relation.label["en"]: (relation.color, relation.dash)
                               for relation in schema().relations.values()}


@pytest.mark.parametrize("language, types, relations, countries", [
    ("en", {"Company", "City", "Organization"}, {"acquired", "headquartered in", "located in"}, "Germany"),
    ("de", {"Unternehmen", "Stadt", "Organisation"}, {"übernahm", "Hauptsitz in", "liegt in"}, "Deutschland"),
    ("zh", {"公司", "城市", "组织"}, {"收购", "总部位于", "位于"}, "德国"),
])
def test_a_drawing_carries_its_legend_in_its_language(language, types, relations, countries):
    shown = graph.legend(language, sample())
    assert set(shown.types) == types and set(shown.relations) == relations and countries in shown.countries
    page = graph.to_html(sample(), language=language)
    legend = re.search(r'<div id="kb-legend">(.*?)</div>', page).group(1)
    assert all(text in legend for text in types | relations), legend


@pytest.mark.parametrize("language, midea, hanover, label", [
    ("en", "Midea", "Hanover", "headquartered in"), ("de", "Midea", "Hannover", "Hauptsitz in"),
    ("zh", "美的", "汉诺威", "总部位于"),
])
def test_names_and_labels_follow_the_language_and_no_raw_relation_name_is_shown(language, midea, hanover, label):
    g = sample()
    g.add_node(Node("city-hanover", "Hanover", "City", "DE",
                    {"id": "city-hanover", "name": "Hanover", "aliases": ["Hannover", "汉诺威"]}))
    g.add_edge(Edge("e5", "firm-midea", "city-hanover", "HEADQUARTERED_IN", {"sources": []}))
    page = graph.to_html(g, language=language)
    nodes = {n["id"]: n["label"] for n in drawn(page, "nodes")}
    assert (nodes["firm-midea"], nodes["city-hanover"]) == (midea, hanover)
    labels = {e["label"] for e in drawn(page, "edges")}
    assert label in labels, labels
    raw = [name for name in schema().relations if name in page]
    assert raw == [], f"raw relation names in the page: {raw}"
    facts = g.facts(language)
    assert {row["relation"] for row in facts} == labels
    assert "None" not in {str(value) for row in facts for value in row.values()}, "absent values are empty cells"


def test_line_patterns_tell_undated_ties_and_dashed_types_apart():
    g = sample()
    g.add_edge(Edge("e7", "org-x", "firm-kuka", "COOPERATES_WITH", {"since": "2018", "sources": []}))
    edges = {e["label"]: e for e in drawn(graph.to_html(g), "edges")}
    assert schema().relations["COOPERATES_WITH"].dash and not schema().relations["ACQUIRED"].dash
    assert edges["cooperates with"]["dashes"] == graph.DASHED, "a dated tie of a dashed type"
    assert edges["acquired"]["dashes"] is False, "a dated tie of a solid type"
    assert edges["located in"]["dashes"] == graph.UNDATED_DOTS, "an undated tie, whatever its type"
    assert edges["acquired"]["color"] == schema().relations["ACQUIRED"].color


def test_a_crowded_drawing_shows_tie_labels_on_hover_only():
    few = drawn(graph.to_html(sample()), "edges")
    assert all(e["label"] == e["kbLabel"] != "" for e in few)
    g = sample()
    for number in range(graph.EDGE_LABELS_SHOWN_UP_TO):
        g.add_node(Node(f"city-{number}", f"City {number}", "City", "CN", {"id": f"city-{number}"}))
        g.add_edge(Edge(f"x{number}", "firm-midea", f"city-{number}", "PRODUCTION_BASE_IN", {"sources": []}))
    page = graph.to_html(g)
    crowded = drawn(page, "edges")
    assert all(e["label"] == "" and e["kbLabel"] for e in crowded)
    assert 'network.on("hoverEdge"' in page and 'network.on("select", kbShowLabels)' in page


def test_user_text_cannot_break_out_of_the_page():
    g = Subgraph()
    g.add_node(Node("x", "</script><script>alert(1)</script>", "City", None, {"id": "x"}))
    page = graph.to_html(g)
    assert "<script>alert(1)" not in page


def test_a_symmetric_tie_is_drawn_without_direction_and_deal_terms_are_shown():
    g = sample()
    g.add_node(Node("city-hanover", "Hanover", "City", "DE", {"id": "city-hanover", "name": "Hanover"}))
    g.add_edge(Edge("e5", "city-foshan", "city-hanover", "SISTER_CITY_OF", {"since": "2005", "sources": []}))
    g.add_edge(Edge("e6", "firm-midea", "firm-kuka", "OWNS", {"share": 0.95, "status": "completed", "sources": []}))
    edges = {(e["from"], e["to"], e["label"]): e for e in drawn(graph.to_html(g), "edges")}
    sister = edges[("city-foshan", "city-hanover", "sister city of")]
    assert sister["arrows"] == {"to": {"enabled": False}} and "Foshan —sister city of— Hanover" in sister["title"]
    assert edges[("firm-midea", "firm-kuka", "acquired")]["arrows"] == "to"
    owns = edges[("firm-midea", "firm-kuka", "owns")]["title"]
    assert "share: 0.95" in owns and "status: completed" in owns
