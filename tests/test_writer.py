"""The batched writer: relations find their ends by id, whether this load wrote them or they were stored
before; batches go to the server one after the other, and none after one that failed."""
import pytest

from kb import db
from kb.errors import LoadInterrupted
from loaders.new_records import NewRecords
from loaders.records import Row, Tie
from loaders.writer import BatchWriter

CITY = Row(True, "City", {"id": "city-w", "name": "Wuxi"})
ALLIANCE = Row(True, "Organization", {"id": "org-w", "name": "W Alliance"})


def member_of(start="city-w", end="org-w"):
    return Row(False, "MEMBER_OF", Tie(start, end, None, {"note": "written"}))


def members() -> list[tuple[str, str]]:
    return [tuple(r.values()) for r in db.read("MATCH (a)-[:MEMBER_OF]->(b) RETURN a.id AS a, b.id AS b")]


def test_a_relation_between_entities_the_load_wrote_is_written(empty_db):
    with BatchWriter(10, NewRecords()) as batches:
        for item in (CITY, ALLIANCE, member_of()):
            batches.add(item)
    assert members() == [("city-w", "org-w")]
    assert db.read("MATCH ()-[r:MEMBER_OF]->() RETURN r.note AS note")[0]["note"] == "written"


def test_a_relation_to_an_entity_stored_before_finds_it(empty_db):
    db.write("CREATE (:Entity:Organization {id: 'org-w', name: 'W Alliance'})")
    with BatchWriter(10, NewRecords()) as batches:
        for item in (CITY, member_of()):
            batches.add(item)
    assert members() == [("city-w", "org-w")]


def test_an_end_deleted_meanwhile_stops_the_load_clearly(empty_db):
    with pytest.raises(LoadInterrupted, match="an entity was deleted meanwhile by someone else"):
        with BatchWriter(10, NewRecords()) as batches:
            for item in (CITY, ALLIANCE):
                batches.add(item)
            batches.add(member_of())
            db.write("MATCH (n {id: 'org-w'}) DETACH DELETE n")
    assert members() == []


def test_the_driver_describes_a_batch_by_its_row_count_not_its_rows(empty_db, caplog):
    # The driver builds this description for every statement even with its log off.
    with caplog.at_level("DEBUG", logger="neo4j"):
        with BatchWriter(10, NewRecords()) as batches:
            for item in (CITY, ALLIANCE, member_of()):
                batches.add(item)
    sent = [r.getMessage() for r in caplog.records if "C: RUN" in r.getMessage() and "UNWIND $rows" in r.getMessage()]
    assert len(sent) == 3
    assert all("<1 rows>" in message for message in sent)
    assert not any("Wuxi" in message or "W Alliance" in message for message in sent)
    assert members() == [("city-w", "org-w")]


def test_no_batch_is_sent_after_one_that_failed(empty_db):
    # Batches of one row: the tie to a missing entity fails in its own transaction, and the valid
    # ties given after it are not written, though they were made while it was being sent.
    with pytest.raises(LoadInterrupted, match="found an end missing"):
        with BatchWriter(1, NewRecords()) as batches:
            for item in (CITY, ALLIANCE, member_of(end="org-missing"), member_of(), member_of(start="org-w")):
                batches.add(item)
    assert members() == []
    assert db.read("MATCH (n:Entity) RETURN count(n) AS c")[0]["c"] == 2
