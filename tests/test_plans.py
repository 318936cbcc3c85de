"""The interactive queries start from an index (a seek), never from a scan of all nodes or a label."""
from __future__ import annotations

import pytest

from bench import synthetic
from kb import db, queries, search
from kb.ddl import SEARCH_INDEX
from loaders import csv as csv_loader
from loaders import pipeline

SCANS = ("AllNodesScan", "NodeByLabelScan", "NodeIndexScan", "DirectedAllRelationshipsScan",
         "UndirectedAllRelationshipsScan")
SEEKS = ("NodeUniqueIndexSeek", "NodeIndexSeek", "MultiNodeIndexSeek", "ProcedureCall")

ANY_YEAR = {"year": None, "undated": True}
AS_OF_2015 = {"year": 2015, "undated": False}
PLANNED = [
    ("search", search.SEARCH_QUERY, {"index": SEARCH_INDEX, "lucene": "foshan^4", "limit": 50}),
    ("entity lookup", queries.ENTITY_QUERY, {"id": "city-foshan"}),
    ("entity relations", queries.ENTITY_RELATIONS_QUERY, {"id": "city-foshan", "limit": 1001}),
    ("neighbours", queries.NEIGHBOURS_QUERY,
     {"frontier": ["city-foshan"], "entity_types": None, "relation_types": None, "limit": 650, **ANY_YEAR}),
    ("neighbours, filtered", queries.NEIGHBOURS_QUERY,
     {"frontier": ["city-foshan"], "entity_types": ["Company"], "relation_types": ["HEADQUARTERED_IN"],
      "limit": 650, **AS_OF_2015}),
    ("edges among", queries.EDGES_AMONG_QUERY,
     {"ring": ["firm-midea"], "ids": ["city-foshan", "firm-midea"], "relation_types": None, "max_degree": 1000,
      "limit": 40, **AS_OF_2015}),
    ("shortest paths", queries.shortest_paths_query(queries.MAX_PATH_HOPS, as_of_year=False),
     {"start": "city-foshan", "end": "firm-midea", "limit": 10, **ANY_YEAR}),
    ("shortest paths as of a year", queries.shortest_paths_query(queries.MAX_PATH_HOPS, as_of_year=True),
     {"start": "city-foshan", "end": "firm-midea", "limit": 10, **AS_OF_2015}),
]


def operators(plan: dict) -> list[str]:
    """Every operator of the plan tree, without the runtime suffix (NodeIndexSeek@neo4j)."""
    found = [plan["operatorType"].split("@")[0]]
    for child in plan.get("children", []):
        found += operators(child)
    return found


def leaves(plan: dict) -> list[str]:
    children = plan.get("children", [])
    if not children:
        return [plan["operatorType"].split("@")[0]]
    return [leaf for child in children for leaf in leaves(child)]


@pytest.fixture(scope="module")
def sizable_graph(seeded_readonly, tmp_path_factory):
    """The seeds plus a synthetic graph: on a few dozen nodes the planner may rightly prefer a
    label scan, and plans would then depend on statistics that change from run to run."""
    folder = tmp_path_factory.mktemp("synthetic")
    synthetic.generate(entities=3000, relations=12000, seed=5, out=folder)
    pipeline.load(csv_loader.reader([folder]), show_progress=False)
    db.read("CALL db.prepareForReplanning()")


def explain(query: str, params: dict) -> dict:
    with db.driver().session(database=db.database()) as session:
        return session.run("EXPLAIN " + query, params).consume().plan


@pytest.mark.parametrize("name, query, params", PLANNED, ids=[p[0] for p in PLANNED])
def test_plan_seeks_an_index(sizable_graph, name, query, params):
    plan = explain(query, params)
    used, starts = operators(plan), leaves(plan)
    scans = [op for op in used if op in SCANS]
    assert scans == [], f"{name}: plan scans {scans}; leaves {starts}; operators {used}"
    assert any(op in SEEKS for op in starts), f"{name}: no leaf seeks an index; leaves {starts}"
