"""kb.analysis against networkx on a small generated graph loaded into the real database, its year
filter on the seeds, its cache, `kb analyse` and the Analysis page."""
from __future__ import annotations

import csv
import json
import random

import networkx as nx
import pytest
import streamlit as st
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from bench import synthetic
from kb import analysis, config, db, ddl
from kb.cli import main
from kb.errors import AnalysisError
from kb.schema import schema
from loaders import csv as csv_loader
from loaders import pipeline, seed
from tests.conftest import SEEDS, seed_counts, seed_ties, tie_in_force, wipe
from tests.test_graph import drawn

APP = str(config.PROJECT_ROOT / "app.py")
# Leiden and Louvain are both heuristics: ours may find a slightly worse partition than networkx's.
MODULARITY_TOLERANCE = 0.03
# The database holds one of two graphs at a time; which one, so each fixture loads only when needed.
_holding = {}


def _hold(name: str, load) -> None:
    if _holding.get("graph") != name:
        wipe()
        ddl.init()
        load()
        _holding["graph"] = name
    analysis.clear_cache()


@pytest.fixture
def small_graph(neo4j_server, tmp_path_factory):
    """A generated graph of 300 entities and 1200 relations in the database, and the same graph in
    networkx read straight from the generated files: undirected, one edge per tied pair, no loops."""
    folder = tmp_path_factory.getbasetemp() / "analysis-small"
    if not folder.exists():
        synthetic.generate(entities=300, relations=1200, seed=5, out=folder)
    _hold("small", lambda: pipeline.load(csv_loader.reader([folder]), show_progress=False))
    reference, countries = nx.Graph(), {}
    for path in sorted(folder.glob("nodes_*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            countries.update({row["id:ID"]: row.get("country") for row in csv.DictReader(handle)})
    for path in sorted(folder.glob("relationships_*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row[":START_ID"] != row[":END_ID"]:
                    reference.add_edge(row[":START_ID"], row[":END_ID"])
    return reference, countries


@pytest.fixture
def seeds(neo4j_server):
    _hold("seeds", lambda: pipeline.load(seed.reader([SEEDS]), show_progress=False))


def by_id(result: analysis.Scores) -> dict:
    return dict(zip(result.projection.ids, result.values))


def test_projection_holds_exactly_the_tied_pairs(small_graph):
    reference, _ = small_graph
    projection = analysis.project()
    pairs = {frozenset((projection.ids[e.source], projection.ids[e.target])) for e in projection.graph.es}
    assert set(projection.ids) == set(reference.nodes)
    assert pairs == {frozenset(edge) for edge in reference.edges}


def test_degree_is_networkx_degree(small_graph):
    reference, _ = small_graph
    assert by_id(analysis.scores("degree")) == dict(reference.degree)


def test_exact_betweenness_is_networkx_betweenness(small_graph):
    reference, _ = small_graph
    result = analysis.scores("betweenness", sample=0)
    expected = nx.betweenness_centrality(reference, normalized=False)
    assert result.parameters["sample"] is None and "exact" in result.algorithm
    assert by_id(result) == pytest.approx(expected, abs=1e-6)


def test_sampled_betweenness_is_the_scaled_betweenness_from_the_sampled_sources(small_graph):
    reference, _ = small_graph
    result = analysis.scores("betweenness", sample=40, seed=3)
    ids = result.projection.ids
    sources = [ids[v] for v in sorted(random.Random(3).sample(range(len(ids)), 40))]
    partial = nx.betweenness_centrality_subset(reference, sources, list(reference.nodes), normalized=False)
    assert result.parameters == {"sample": 40, "seed": 3}
    assert "40 entities drawn at random (seed 3)" in result.algorithm
    assert by_id(result) == pytest.approx({k: v * len(ids) / 40 for k, v in partial.items()}, abs=1e-6)


def test_brokerage_counts_only_paths_from_china_to_germany(small_graph):
    reference, countries = small_graph
    chinese = [n for n in reference if countries.get(n) == "CN"]
    german = [n for n in reference if countries.get(n) == "DE"]
    assert chinese and german, "the generated graph has both sides"
    result = analysis.scores("brokerage", sample=0)
    expected = nx.betweenness_centrality_subset(reference, chinese, german, normalized=False)
    assert by_id(result) == pytest.approx(expected, abs=1e-6)
    assert f"{len(chinese)} Chinese entities" in result.algorithm and f"{len(german)} German" in result.algorithm


def test_communities_are_as_good_as_networkx_louvain(small_graph):
    reference, _ = small_graph
    result = analysis.scores("communities")
    membership = by_id(result)
    partition = {}
    for entity_id, community in membership.items():
        partition.setdefault(community, set()).add(entity_id)
    ours = nx.community.modularity(reference, partition.values())
    theirs = nx.community.modularity(reference, nx.community.louvain_communities(reference, seed=1))
    assert set(membership) == set(reference.nodes)
    assert ours == pytest.approx(result.extra["modularity"], abs=1e-9), "the modularity we report is networkx's"
    assert ours >= theirs - MODULARITY_TOLERANCE, (ours, theirs)
    assert result.extra["sizes"] == sorted(result.extra["sizes"], reverse=True), "community 0 is the largest"
    assert "Leiden" in result.algorithm and "seed 1" in result.algorithm


def test_kcore_is_networkx_core_number(small_graph):
    reference, _ = small_graph
    assert by_id(analysis.scores("kcore")) == nx.core_number(reference)


def test_top_rows_follow_the_ranking_with_names(small_graph):
    reference, _ = small_graph
    rows = analysis.top(analysis.scores("degree"), 5)
    degrees = sorted((-d, n) for n, d in reference.degree)[:5]
    assert [(row["id"], row["degree"]) for row in rows] == [(n, -d) for d, n in degrees]
    assert all(row["name"] and row["type"] in schema().entities for row in rows)


def test_a_write_invalidates_the_cache(small_graph):
    before = db.graph_version()
    assert db.graph_version() == before, "reading commits nothing"
    projection = analysis.project()
    degree = by_id(analysis.scores("degree"))
    graph, ids = projection.graph, projection.ids
    u, v = next((u, v) for u in range(len(ids)) for v in range(u + 1, len(ids)) if graph.get_eid(u, v, error=False) < 0)
    db.write("MATCH (a:Entity {id: $a}), (b:Entity {id: $b}) CREATE (a)-[:COOPERATES_WITH {sources: ['s']}]->(b)",
             a=ids[u], b=ids[v])
    _holding.pop("graph")     # no longer the generated graph alone
    assert db.graph_version() != before
    after = by_id(analysis.scores("degree"))
    assert (after[ids[u]], after[ids[v]]) == (degree[ids[u]] + 1, degree[ids[v]] + 1)
    assert analysis.project() is not projection


in_force = tie_in_force


def counted(ties) -> dict:
    found = {}
    for tie in ties:
        found[tie["type"]] = found.get(tie["type"], 0) + 1
    return dict(sorted(found.items()))


@pytest.mark.parametrize("year", [2005, 2015, 2019])
@pytest.mark.parametrize("undated", [True, False])
def test_year_filter_keeps_the_ties_in_force(seeds, year, undated):
    ties = seed_ties()
    assert analysis.project().ties_by_type == counted(ties) == dict(sorted(seed_counts()[1].items()))
    projection = analysis.project(analysis.Filters(year=year, undated=undated))
    assert projection.ties_by_type == counted(t for t in ties if in_force(t, year, undated))
    later = [t for t in ties if t.get("since") and int(str(t["since"])[:4]) > year]
    assert later, f"the seeds hold ties that began after {year}"
    assert projection.ties <= len(ties) - len(later)


def test_filters_by_entity_and_relation_type(seeds):
    projection = analysis.project(analysis.Filters(relation_types=("SISTER_CITY_OF",)))
    assert projection.ties_by_type == {"SISTER_CITY_OF": counted(seed_ties())["SISTER_CITY_OF"]}
    cities = analysis.project(analysis.Filters(entity_types=("City",)))
    found = analysis.nodes(cities.ids)
    assert {node.type for node in found.values()} == {"City"}


def test_unknown_names_are_refused(seeds):
    with pytest.raises(AnalysisError, match="unknown entity type 'Citty'"):
        analysis.Filters(entity_types=("Citty",))
    with pytest.raises(AnalysisError, match="unknown measure"):
        analysis.scores("pagerank")


@pytest.mark.parametrize("measure, algorithm", [("betweenness", "Brandes"), ("brokerage", "Brandes"),
                                                ("communities", "Leiden"), ("degree", "Degree"),
                                                ("kcore", "Batagelj and Zaversnik")])
def test_cli_prints_the_table_and_the_algorithm(seeds, measure, algorithm):
    result = CliRunner().invoke(main, ["analyse", "--measure", measure, "--top", "3", "--types", "City,Company",
                                       "--year", "2016"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Projection:") and "ties in force in 2016" in lines[0]
    assert lines[-1].startswith("Algorithm: ") and algorithm in lines[-1]
    assert len(lines) == 1 + 2 + 3 + 1, "projection, header and rule, three rows, algorithm"


def test_cli_offers_every_measure():
    option = next(p for p in main.commands["analyse"].params if p.name == "measure")
    assert set(option.type.choices) == set(analysis.MEASURES), "the command lists the measures without importing igraph"


def test_cli_json_names_the_parameters(seeds):
    result = CliRunner().invoke(main, ["analyse", "--measure", "betweenness", "--sample", "20", "--seed", "4",
                                       "--format", "json"], catch_exceptions=False)
    found = json.loads(result.output)
    assert found["parameters"] == {"sample": 20, "seed": 4}
    assert found["projection"]["ties_by_type"] == counted(seed_ties())
    assert len(found["rows"]) == 10


def test_cli_refuses_an_unknown_type(seeds):
    result = CliRunner().invoke(main, ["analyse", "--relations", "LIKES"])
    assert result.exit_code == 1 and "unknown relation type 'LIKES'" in result.output


def test_analysis_page_shows_a_top_table_and_a_graph(seeds):
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["measure"] = "brokerage"
    at.run()
    at.switch_page("app_pages/analysis.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert len(table) == 20 and list(table.columns)[:3] == ["rank", "id", "name"]
    assert "Country" not in set(table["type"]), "countries are left out by default"
    captions = "\n".join(c.value for c in at.caption)
    assert "Algorithm: Brokerage between China and Germany" in captions and "Leiden" in captions
    frames = at.get("iframe")
    assert len(frames) == 1 and "vis.DataSet" in frames[0].proto.srcdoc
    assert 'id="kb-png"' in frames[0].proto.srcdoc, "the drawing offers its PNG"
    assert "kbSameView" in frames[0].proto.srcdoc, "a click on a node opens Explore of it"
    nodes = {node["id"]: node for node in drawn(frames[0].proto.srcdoc, "nodes")}
    assert set(nodes) == set(table["id"]), "the drawing holds the table's entities"
    palette = (*analysis.COMMUNITY_COLOURS, analysis.OTHER_COMMUNITY)
    assert {node["color"]["background"] for node in nodes.values()} <= set(palette), "coloured by community"
    top, last = table["id"].iloc[0], table["id"].iloc[-1]
    assert nodes[top]["size"] == max(analysis.SIZE_RANGE) >= nodes[last]["size"], "sized by the measure"
    labels = [button.proto.label for button in at.get("download_button")]
    assert any("Markdown" in label for label in labels) and any("BibTeX" in label for label in labels), labels
    at.selectbox(key="analysis-measure").set_value("communities").run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(at.dataframe[0].value.columns)[:2] == ["community", "entities"]
    assert at.query_params["measure"] == "communities", "the measure is kept in the URL"
