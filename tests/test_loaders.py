"""Loading seeds and CSV files: counts, idempotence, and every kind of bad input refused whole."""
import textwrap
from pathlib import Path

import pytest

from kb import db, ddl
from kb.errors import InvalidRecord
from kb.search import search
from loaders import by_path, pipeline
from loaders.source import RecordSource
from tests.conftest import SEEDS, graph_counts, seed_counts, seed_totals


def load(*paths, dry_run=False):
    return pipeline.load(by_path.reader_for(paths), dry_run=dry_run, show_progress=False)


def test_seeds_hold_every_entity_of_the_seed_facts(seeded_readonly):
    records = db.read("MATCH (n:Entity) RETURN [l IN labels(n) WHERE l <> 'Entity'][0] AS t, count(*) AS c")
    assert {r["t"]: r["c"] for r in records} == seed_counts()[0]


def test_every_seed_fact_cites_an_existing_source(seeded_readonly):
    uncited = db.read("MATCH ()-[r]->() WHERE size(r.sources) = 0 "
                      "OR any(s IN r.sources WHERE NOT EXISTS { MATCH (:Source {id: s}) }) RETURN count(r) AS c")
    assert uncited[0]["c"] == 0
    cited = db.read("MATCH ()-[r]->() WHERE 'src-foshan-2019' IN r.sources RETURN count(r) AS c")[0]["c"]
    assert cited > 30


@pytest.mark.parametrize("cypher", [
    "MATCH (:City {id: 'city-foshan'})-[r:MEMBER_OF]->(:Organization {id: 'org-sgica'}) "
    "WHERE r.since = '2016' AND r.founding RETURN count(r) AS c",
    "MATCH (:City {id: 'city-taicang'})-[r:MEMBER_OF]->(:Organization {id: 'org-sgica'}) "
    "WHERE r.since = '2019' RETURN count(r) AS c",
    "MATCH (:Company {id: 'firm-midea'})-[r:ACQUIRED]->(:Company {id: 'firm-kuka'}) "
    "WHERE r.since = '2016' AND r.until = '2017' RETURN count(r) AS c",
    "MATCH (:Company {id: 'firm-midea'})-[:OWNS]->(:Company {id: 'firm-kuka'}) RETURN count(*) AS c",
    "MATCH (:Organization {id: 'org-sgica'})-[:FOUNDED_IN]->(:City {id: 'city-hanover'}) RETURN count(*) AS c",
    "MATCH (:Person {id: 'person-liu-yi'})-[r:HOLDS_OFFICE]->() RETURN count(r) - 1 AS c",
    "MATCH (:Organization {id: 'org-sgica'}) WHERE EXISTS { MATCH (o:Organization {id: 'org-sgica'}) "
    "WHERE o.member_count = 43 } RETURN count(*) AS c",
    "MATCH (e:Event {id: 'event-expo-2019'}) WHERE e.exhibitor_count = 32 AND e.area_m2 = 540.0 "
    "RETURN count(e) AS c",
    "MATCH (:Document {id: 'doc-annual-report-2019'})-[:RELEASED_AT]->(:Event {id: 'event-sgica-plenary-8'}) "
    "RETURN count(*) AS c",
])
def test_key_seed_facts_are_there(seeded_readonly, cypher):
    assert db.read(cypher)[0]["c"] == 1, cypher


def test_loading_twice_changes_no_count(seeded_db):
    before = graph_counts()
    report = load(SEEDS)
    assert (report.entities, report.relations) == before
    assert graph_counts() == before


def test_dry_run_writes_nothing(empty_db):
    report = load(SEEDS, dry_run=True)
    assert report.entities == seed_totals()[0] and report.dry_run
    assert graph_counts() == (0, 0)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


GOOD_YAML = """
entities:
  - {id: src-test, type: Source, name: Test source, title: Test source, kind: dataset}
  - {id: city-a, type: City, name: A, sources: [src-test]}
  - {id: firm-b, type: Company, name: B, sources: [src-test]}
relations:
  - {from: firm-b, type: HEADQUARTERED_IN, to: city-a, sources: [src-test], since: "2001"}
"""

BAD_YAML = {
    "unknown type": (GOOD_YAML.replace("type: City", "type: Planet"), "line 3", "'type'", "unknown entity type"),
    "missing required": (GOOD_YAML.replace(", name: A,", ","), "line 3", "'name'", "required but missing"),
    "empty id": (GOOD_YAML.replace("id: city-a", 'id: ""'), "line 3", "'id'", "required but missing"),
    "computed property": (GOOD_YAML.replace("name: A,", "name: A, search_text: a,"), "line 3", "'search_text'",
                          "computed by the loader"),
    "missing sources": (GOOD_YAML.replace("name: B, sources: [src-test]", "name: B"), "line 4", "'sources'",
                        "required"),
    "dangling reference": (GOOD_YAML.replace("to: city-a", "to: city-nowhere"), "line 6", "'to'",
                           "exists neither in the input nor in the database"),
    "uncited source": (GOOD_YAML.replace("sources: [src-test], since", "sources: [src-ghost], since"),
                       "line 6", "'sources'", "src-ghost"),
    "duplicate id": (GOOD_YAML.replace("id: firm-b", "id: city-a"), "line 4", "'id'", "duplicate id"),
    "malformed date": (GOOD_YAML.replace('since: "2001"', 'since: "2001-13-01"'), "line 6", "'since'",
                       "not a date"),
    "disallowed endpoints": (GOOD_YAML.replace("from: firm-b, type: HEADQUARTERED_IN, to: city-a",
                                               "from: city-a, type: HEADQUARTERED_IN, to: firm-b"),
                             "line 6", "'from'", "HEADQUARTERED_IN may not start at City"),
    "undeclared property": (GOOD_YAML.replace("name: A,", "name: A, population: 5,"), "line 3", "'population'",
                            "not a property"),
    "malformed YAML": (GOOD_YAML.replace("  - {id: city-a", "  - {id: city-a: ["), "line", "", "malformed YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_bad_yaml_is_refused_whole_with_place_and_field(seeded_readonly, tmp_path, case):
    text, line, field, message = BAD_YAML[case]
    path = write(tmp_path, "bad.yaml", text)
    before = graph_counts()
    with pytest.raises(InvalidRecord) as refused:
        load(path)
    problem = str(refused.value)
    assert str(path) in problem and line in problem and field in problem and message in problem, problem
    assert graph_counts() == before


def test_good_yaml_loads(empty_db, tmp_path):
    load(write(tmp_path, "good.yaml", GOOD_YAML))
    assert graph_counts() == (3, 1)


GOOD_NODES = """
id:ID,:LABEL,name,aliases:string[],sources:string[],member_count:int,title,kind
src-csv,Source,CSV source,,,,CSV source,dataset
city-x,City,Xanten,Xantum;Castra Vetera,src-csv,,,
org-y,Organization,Y Alliance,,src-csv,12,,
"""
GOOD_RELATIONSHIPS = """
:START_ID,:END_ID,:TYPE,sources:string[],since:date
city-x,org-y,MEMBER_OF,src-csv,2019-05
"""

BAD_CSV = {
    "unknown type": ("nodes", GOOD_NODES.replace(",City,", ",Town,"), "line 3", "'type'", "unknown entity type"),
    "missing required": ("nodes", GOOD_NODES.replace("city-x,City,Xanten", "city-x,City,"), "line 3", "'name'",
                         "required but missing"),
    "dangling reference": ("relationships", GOOD_RELATIONSHIPS.replace("org-y", "org-gone"), "line 2", "'to'",
                           "exists neither"),
    "duplicate id": ("nodes", GOOD_NODES.replace("org-y,", "city-x,"), "line 4", "'id'", "duplicate id"),
    "malformed date": ("relationships", GOOD_RELATIONSHIPS.replace("2019-05", "May 2019"), "line 2", "'since'",
                       "not a date"),
    "disallowed endpoints": ("relationships", GOOD_RELATIONSHIPS.replace("city-x,org-y", "org-y,city-x"),
                             "line 2", "'to'", "MEMBER_OF may not end at City"),
    "bad integer": ("nodes", GOOD_NODES.replace(",12,", ",twelve,"), "line 4", "'member_count'", "integer"),
    "header type disagrees": ("nodes", GOOD_NODES.replace("member_count:int", "member_count:date"), "line",
                              "'member_count'", "schema says int"),
    "short row": ("relationships", GOOD_RELATIONSHIPS.replace(",src-csv,2019-05", ""), "line 2", "",
                  "expected 5 columns"),
    "malformed header": ("nodes", GOOD_NODES.replace("id:ID,:LABEL", "id:ID,:LABEL:x"), "line 1", "",
                         "not a header field"),
    "missing id column": ("nodes", GOOD_NODES.replace("id:ID,", "ident,"), "line 1", "", "needs the columns"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_bad_csv_is_refused_whole_with_place_and_field(seeded_readonly, tmp_path, case):
    which, text, line, field, message = BAD_CSV[case]
    files = {"nodes": GOOD_NODES, "relationships": GOOD_RELATIONSHIPS, which: text}
    paths = [write(tmp_path, f"{name}.csv", body) for name, body in files.items()]
    before = graph_counts()
    with pytest.raises(InvalidRecord) as refused:
        load(*paths)
    problem = str(refused.value)
    assert f"{which}.csv" in problem and line in problem and field in problem and message in problem, problem
    assert graph_counts() == before


def test_csv_loads_and_reloads_idempotently(seeded_db, tmp_path):
    write(tmp_path, "nodes.csv", GOOD_NODES)
    write(tmp_path, "relationships.csv", GOOD_RELATIONSHIPS)
    base_nodes, base_relations = graph_counts()
    load(tmp_path)
    assert graph_counts() == (base_nodes + 3, base_relations + 1)
    load(tmp_path)
    assert graph_counts() == (base_nodes + 3, base_relations + 1)
    city = db.read("MATCH (c:City {id: 'city-x'}) RETURN c.aliases AS a, c.search_keys AS k")[0]
    assert city["a"] == ["Xantum", "Castra Vetera"] and "castra vetera" in city["k"]


def test_input_is_read_once_and_written_from_what_was_checked(seeded_db, tmp_path):
    write(tmp_path, "nodes.csv", GOOD_NODES)
    write(tmp_path, "relationships.csv", GOOD_RELATIONSHIPS)
    source, calls = by_path.reader_for([tmp_path]), []

    def counted(phase, name):
        def read(validator):
            calls.append(name)
            return phase(validator)
        return read

    base_nodes, base_relations = graph_counts()
    parts = tuple((size, counted(phase, "relations")) for size, phase in source.relation_parts)
    pipeline.load(RecordSource(counted(source.entities, "entities"), parts), show_progress=False)
    assert calls == ["entities", "relations"]
    assert graph_counts() == (base_nodes + 3, base_relations + 1)


def test_csv_may_refer_to_stored_entities(seeded_db, tmp_path):
    write(tmp_path, "relationships.csv", ":START_ID,:END_ID,:TYPE,sources:string[]\n"
                                         "firm-kuka,city-foshan,COOPERATES_WITH,src-reference\n")
    _, relations = graph_counts()
    load(tmp_path)
    assert graph_counts()[1] == relations + 1


SISTER_CITIES_YAML = """
entities:
  - {id: src-test, type: Source, name: Test source, title: Test source, kind: dataset}
  - {id: city-a, type: City, name: A, sources: [src-test]}
  - {id: city-b, type: City, name: B, sources: [src-test]}
relations:
  - {from: city-b, type: SISTER_CITY_OF, to: city-a, sources: [src-test], since: "1999"}
"""


def test_a_symmetric_tie_is_stored_once_whichever_way_it_is_given(seeded_db, tmp_path):
    load(write(tmp_path, "one.yaml", SISTER_CITIES_YAML))
    reversed_tie = SISTER_CITIES_YAML.replace("from: city-b, type: SISTER_CITY_OF, to: city-a",
                                              "from: city-a, type: SISTER_CITY_OF, to: city-b")
    load(write(tmp_path, "one.yaml", reversed_tie))
    ties = db.read("MATCH (a:City)-[r:SISTER_CITY_OF]-(b:City) WHERE a.id = 'city-a' "
                   "RETURN startNode(r).id AS a, endNode(r).id AS b, r.since AS since")
    assert [dict(t) for t in ties] == [{"a": "city-a", "b": "city-b", "since": "1999"}]
    from_either_end = db.read("MATCH (:City {id: 'city-b'})-[r:SISTER_CITY_OF]-(c:City) RETURN c.id AS c")
    assert [t["c"] for t in from_either_end] == ["city-a"]


def test_id_stored_under_another_type_is_refused(seeded_readonly, tmp_path):
    path = write(tmp_path, "clash.yaml", "entities:\n  - {id: city-foshan, type: Company, name: Foshan Co, "
                                         "sources: [src-reference]}\n")
    with pytest.raises(InvalidRecord, match="already stored as a City"):
        load(path)


def test_no_such_path_is_refused(empty_db, tmp_path):
    with pytest.raises(InvalidRecord, match="no such file"):
        load(tmp_path / "missing.yaml")


def search_index() -> dict:
    return db.read("SHOW FULLTEXT INDEXES YIELD name, id, state WHERE name = $name RETURN id, state",
                   name=ddl.SEARCH_INDEX)[0]


def test_a_first_load_builds_the_search_index_once_its_entities_are_written(empty_db, tmp_path, monkeypatch):
    graph_when_built = []
    create_search_index = ddl.create_search_index

    def recording_create():
        counts = db.read("MATCH (n:Entity) RETURN count(n) AS entities, COUNT { ()-[]->() } AS relations")[0]
        indexes = db.read("SHOW FULLTEXT INDEXES YIELD name WHERE name = $name RETURN count(*) AS found",
                          name=ddl.SEARCH_INDEX)[0]
        graph_when_built.append((counts["entities"], counts["relations"], indexes["found"]))
        create_search_index()

    monkeypatch.setattr(ddl, "create_search_index", recording_create)
    write(tmp_path, "nodes.csv", GOOD_NODES)
    write(tmp_path, "relationships.csv", GOOD_RELATIONSHIPS)
    load(tmp_path)
    # Dropped, then built once: with every entity committed, before the first relation.
    assert graph_when_built == [(3, 0, 0)]
    assert search_index()["state"] == "ONLINE"
    assert search("Xantum")[0].id == "city-x"
    assert graph_counts() == (3, 1)


def test_a_load_into_a_database_with_entities_keeps_its_search_index(seeded_db, tmp_path):
    before = search_index()
    write(tmp_path, "nodes.csv", GOOD_NODES)
    load(tmp_path)
    assert search_index() == before
    assert search("Xantum")[0].id == "city-x"
