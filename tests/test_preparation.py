"""The database made ready for a load: constraints made sure of, a first load's search index
dropped while it loads and there again afterwards, nothing written."""
import pytest

from kb import db, ddl
from kb.errors import InvalidRecord
from loaders import by_path, pipeline
from loaders.preparation import database_ready
from tests.conftest import graph_counts, wipe


def search_indexes() -> int:
    return db.read("SHOW FULLTEXT INDEXES YIELD name WHERE name = $name RETURN count(*) AS found",
                   name=ddl.SEARCH_INDEX)[0]["found"]


def constraints() -> int:
    return db.read("SHOW CONSTRAINTS YIELD name RETURN count(*) AS found")[0]["found"]


def constraint_names() -> set:
    return {r["name"] for r in db.read("SHOW CONSTRAINTS YIELD name RETURN name")}


# The schema's constraints, by name (`CREATE CONSTRAINT <name> IF NOT EXISTS ...`); the review queue and
# retractions keep constraints of their own, which a wipe leaves in place.
SCHEMA_CONSTRAINTS = {statement.split()[2] for statement in ddl.statements() if statement.startswith("CREATE CONSTRAINT")}


def test_into_an_empty_database_it_makes_the_constraints_and_drops_the_search_index_meanwhile(neo4j_server):
    wipe()
    db.write("DROP CONSTRAINT city_id IF EXISTS")
    with database_ready(dry_run=False) as first_load:
        assert first_load
        assert SCHEMA_CONSTRAINTS <= constraint_names() and "city_id" in SCHEMA_CONSTRAINTS
        assert search_indexes() == 0
        assert db.read("MATCH (n) RETURN count(n) AS nodes")[0]["nodes"] == 0
    assert search_indexes() == 1


def test_into_a_database_with_entities_it_keeps_the_search_index(seeded_db):
    counts = graph_counts()
    with database_ready(dry_run=False) as first_load:
        assert not first_load
        assert search_indexes() == 1
    assert graph_counts() == counts


def test_a_dry_run_leaves_the_database_alone(neo4j_server):
    wipe()
    db.write("DROP CONSTRAINT city_id IF EXISTS")
    before = constraints()
    with database_ready(dry_run=True) as first_load:
        assert not first_load
    assert constraints() == before
    ddl.init()


def test_a_refused_first_load_leaves_the_search_index_in_place(empty_db, tmp_path):
    (tmp_path / "nodes.csv").write_text("id:ID,:LABEL,name\ncity-r,City,Rostock\n")
    (tmp_path / "relationships_1.csv").write_text(":START_ID,:END_ID,:TYPE\ncity-r,city-r,PART_OF\n")
    (tmp_path / "relationships_2.csv").write_text(":START_ID,:END_ID,:TYPE\ncity-r,org-none,MEMBER_OF\n")
    with pytest.raises(InvalidRecord):
        pipeline.load(by_path.reader_for([tmp_path]), show_progress=False)
    assert graph_counts() == (0, 0)
    assert search_indexes() == 1
