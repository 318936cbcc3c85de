"""The server's part of a load, prepared while the input is validated, writes no record."""
import pytest

from kb import db, ddl
from kb.errors import InvalidRecord
from loaders import by_path, pipeline
from loaders.preparation import Preparation, _rows_planned_alike
from tests.conftest import graph_counts, wipe


def search_indexes() -> int:
    return db.read("SHOW FULLTEXT INDEXES YIELD name WHERE name = $name RETURN count(*) AS found",
                   name=ddl.SEARCH_INDEX)[0]["found"]


def constraints() -> int:
    return db.read("SHOW CONSTRAINTS YIELD name RETURN count(*) AS found")[0]["found"]


def test_into_an_empty_database_it_makes_the_constraints_and_drops_the_search_index(neo4j_server):
    wipe()
    db.write("DROP CONSTRAINT city_id IF EXISTS")
    preparing = Preparation(plan_statements=True, batch_size=10000).start()
    preparing.finish()
    assert preparing.first_load
    assert constraints() == sum("CONSTRAINT" in statement for statement in ddl.statements())
    assert search_indexes() == 0
    # Planning the statements wrote nothing, not even a load token.
    assert db.read("MATCH (n) RETURN count(n) AS nodes")[0]["nodes"] == 0
    ddl.init()


def test_into_a_database_with_entities_it_keeps_the_search_index(seeded_db):
    counts = graph_counts()
    preparing = Preparation(plan_statements=True, batch_size=10000).start()
    preparing.finish()
    assert not preparing.first_load
    assert search_indexes() == 1
    assert graph_counts() == counts


def test_its_error_reaches_the_load(empty_db, monkeypatch):
    def refused():
        raise RuntimeError("no schema for you")

    monkeypatch.setattr(ddl, "init", refused)
    preparing = Preparation(plan_statements=False, batch_size=10).start()
    with pytest.raises(RuntimeError, match="no schema for you"):
        preparing.finish()


def test_a_refused_first_load_leaves_the_search_index_in_place(empty_db, tmp_path, monkeypatch):
    # Large enough to have its statements planned and its later file checked by a worker.
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 0)
    (tmp_path / "nodes.csv").write_text("id:ID,:LABEL,name\ncity-r,City,Rostock\n")
    (tmp_path / "relationships_1.csv").write_text(":START_ID,:END_ID,:TYPE\ncity-r,city-r,PART_OF\n")
    (tmp_path / "relationships_2.csv").write_text(":START_ID,:END_ID,:TYPE\ncity-r,org-none,MEMBER_OF\n")
    with pytest.raises(InvalidRecord):
        pipeline.load(by_path.reader_for([tmp_path]), show_progress=False)
    assert graph_counts() == (0, 0)
    assert search_indexes() == 1


@pytest.mark.parametrize("batch_size, rows", [(10000, 1001), (5000, 1001), (1000, 101), (20000, 10001), (1, 1)])
def test_statements_are_planned_for_the_fewest_rows_of_a_full_batchs_size_class(batch_size, rows):
    assert _rows_planned_alike(batch_size) == rows
