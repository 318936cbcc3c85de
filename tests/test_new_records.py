"""Records a load may create instead of merge: only those that cannot be stored yet."""
import pytest

from kb import db
from kb.errors import LoadInterrupted
from loaders import by_path, pipeline
from loaders.new_records import NewRecords
from loaders.records import Row, Tie
from loaders.writer import BatchWriter
from tests.conftest import graph_counts


def tie(start, end, type_name="MEMBER_OF", key=None):
    return Row(False, type_name, Tie(start, end, key, {}))


def counted(*items, input_types=None, stored_ids=()):
    new_records = NewRecords()
    for item in items:
        new_records.count_relation(item)
    types = input_types if input_types is not None else {"city-new": "City", "org-new": "Organization",
                                                         "city-old": "City", "org-old": "Organization"}
    new_records.know_entities(types, set(stored_ids))
    return new_records


def test_an_entity_is_new_unless_stored_before():
    new_records = counted(stored_ids={"city-old"})
    assert new_records.is_new(Row(True, "City", {"id": "city-new", "name": "New"}))
    assert not new_records.is_new(Row(True, "City", {"id": "city-old", "name": "Old"}))


def test_a_tie_with_an_end_the_load_creates_is_new():
    new_records = counted(tie("city-new", "org-old"), tie("city-old", "org-new"), tie("city-new", "org-new"),
                            stored_ids={"city-old", "org-old"})
    assert new_records.is_new(tie("city-new", "org-old"))
    assert new_records.is_new(tie("city-old", "org-new"))
    assert new_records.is_new(tie("city-new", "org-new"))


def test_a_tie_between_stored_entities_is_not_new():
    new_records = counted(tie("city-old", "org-old"), tie("city-old", "org-outside"),
                            stored_ids={"city-old", "org-old"})
    assert not new_records.is_new(tie("city-old", "org-old"))
    # An end outside the input is a stored entity (validation made sure of it).
    assert not new_records.is_new(tie("city-old", "org-outside"))


def test_a_tie_given_twice_is_merged_both_times():
    new_records = counted(tie("city-new", "org-new"), tie("city-new", "org-new"), tie("city-new", "org-old"))
    assert not new_records.is_new(tie("city-new", "org-new"))
    assert new_records.is_new(tie("city-new", "org-old"))
    assert new_records.is_repeated(tie("city-new", "org-new"))
    assert not new_records.is_repeated(tie("city-new", "org-old"))


def test_type_and_key_are_part_of_a_ties_identity():
    new_records = counted(tie("city-new", "org-new"), tie("city-new", "org-new", "SECRETARIAT_AT"),
                            tie("p-new", "city-new", "HOLDS_OFFICE", "mayor"),
                            tie("p-new", "city-new", "HOLDS_OFFICE", "party secretary"),
                            input_types={"city-new": "City", "org-new": "Organization", "p-new": "Person"})
    assert new_records.is_new(tie("city-new", "org-new"))
    assert new_records.is_new(tie("city-new", "org-new", "SECRETARIAT_AT"))
    assert new_records.is_new(tie("p-new", "city-new", "HOLDS_OFFICE", "mayor"))


NODES = """id:ID,:LABEL,name,sources:string[],title,kind
src-t,Source,Test source,,Test source,dataset
city-t,City,Tangshan,src-t,,
org-t,Organization,T Alliance,src-t,,
"""


def write_files(folder, relationships):
    (folder / "nodes.csv").write_text(NODES)
    (folder / "relationships.csv").write_text(":START_ID,:END_ID,:TYPE,sources:string[],note\n" + relationships)
    return folder


def load(folder):
    return pipeline.load(by_path.reader_for([folder]), show_progress=False)


def test_a_tie_given_twice_in_a_fresh_load_is_stored_once_with_the_later_values(empty_db, tmp_path):
    load(write_files(tmp_path, "city-t,org-t,MEMBER_OF,src-t,first\ncity-t,org-t,MEMBER_OF,src-t,second\n"))
    assert graph_counts() == (3, 1)
    assert db.read("MATCH ()-[r:MEMBER_OF]->() RETURN r.note AS note")[0]["note"] == "second"


def test_a_tie_given_twice_in_one_load_by_two_sources_cites_both(empty_db, tmp_path):
    (tmp_path / "sources.csv").write_text("id:ID,:LABEL,name,title,kind\nsrc-u,Source,Other,Other,news\n")
    load(write_files(tmp_path, "city-t,org-t,MEMBER_OF,src-t,first\ncity-t,org-t,MEMBER_OF,src-u,second\n"))
    stored = db.read("MATCH ()-[r:MEMBER_OF]->() RETURN r.sources AS sources, r.note AS note")
    assert [(sorted(r["sources"]), r["note"]) for r in stored] == [(["src-t", "src-u"], "second")]


def test_ties_a_fresh_load_created_are_merged_when_loaded_again(empty_db, tmp_path):
    write_files(tmp_path, "city-t,org-t,MEMBER_OF,src-t,first\n")
    load(tmp_path)
    load(write_files(tmp_path, "city-t,org-t,MEMBER_OF,src-t,again\n"))
    assert graph_counts() == (3, 1)
    assert db.read("MATCH ()-[r:MEMBER_OF]->() RETURN r.note AS note")[0]["note"] == "again"


def test_a_load_merges_an_entity_stored_before_and_creates_the_others(seeded_db, tmp_path):
    (tmp_path / "nodes.csv").write_text("id:ID,:LABEL,name,sources:string[]\n"
                                        "city-foshan,City,Foshan again,src-reference\n"
                                        "city-t,City,Tangshan,src-reference\n")
    nodes, relations = graph_counts()
    load(tmp_path)
    assert graph_counts() == (nodes + 1, relations)
    names = db.read("MATCH (c:City) WHERE c.id IN ['city-foshan', 'city-t'] RETURN c.id AS id, c.name AS name")
    assert {r["id"]: r["name"] for r in names} == {"city-foshan": "Foshan again", "city-t": "Tangshan"}


def test_an_entity_stored_by_someone_else_since_validation_stops_the_load_clearly(empty_db):
    db.write("CREATE (:Entity:City {id: 'city-t', name: 'Stored meanwhile'})")
    new_records = counted(input_types={"city-t": "City"})
    with pytest.raises(LoadInterrupted, match="stored meanwhile by someone else"):
        with BatchWriter(10, new_records) as writer:
            writer.add(Row(True, "City", {"id": "city-t", "name": "Tangshan"}))
    assert db.read("MATCH (c:City) RETURN collect(c.name) AS names")[0]["names"] == ["Stored meanwhile"]


def test_among_many_distinct_ties_none_is_taken_for_a_repeated_one():
    # A repeated identity makes its tie MERGE; a false one costs the server a statement to plan.
    ties = [tie(f"city-{n}", f"org-{n % 997}") for n in range(300_000)]
    new_records = counted(*ties, input_types={**{f"city-{n}": "City" for n in range(300_000)},
                                              **{f"org-{n}": "Organization" for n in range(997)}})
    assert all(new_records.is_new(item) for item in ties)
