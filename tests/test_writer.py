"""The batched writer: relations find their ends by id, whether this load wrote them or they were stored
before; batches that merge go to the server one after the other, batches of new ties alongside one
another, and none is sent once one has failed."""
import threading

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


def known_new(entity_ids: list[str]) -> NewRecords:
    """What validation would know of a load whose entities (all cities) are all new."""
    new_records = NewRecords()
    new_records.know_entities({entity_id: "City" for entity_id in entity_ids}, set())
    return new_records


def partners(count: int, end=lambda i: f"city-{i + 1}") -> list[Row]:
    return [Row(False, "LOCATED_IN", Tie(f"city-{i}", end(i), None, {"note": f"tie {i}"})) for i in range(count)]


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("kb-write")]


def test_new_ties_written_alongside_one_another_are_all_written_and_counted(empty_db):
    cities = [Row(True, "City", {"id": f"city-{i}", "name": f"City {i}"}) for i in range(41)]
    ties = partners(40)
    reported = []
    with BatchWriter(3, known_new([c.data["id"] for c in cities]), reported.append) as batches:
        for item in cities + ties:
            batches.add(item)
    stored = db.read("MATCH (a)-[r:LOCATED_IN]->(b) RETURN a.id AS a, b.id AS b, r.note AS note ORDER BY note")
    assert sorted((r["a"], r["b"], r["note"]) for r in stored) == sorted(
        (t.data.start, t.data.end, t.data.props["note"]) for t in ties)
    assert batches.written["LOCATED_IN"] == len(ties) and batches.written["City"] == len(cities)
    assert sum(reported) == len(cities) + len(ties)
    assert writer_threads() == []


def test_a_failed_batch_of_new_ties_stops_the_load_and_no_write_outlives_it(empty_db):
    # city-missing is new to the load but never written: its tie's batch finds an end missing.
    cities = [Row(True, "City", {"id": f"city-{i}", "name": f"City {i}"}) for i in range(31)]
    ties = partners(1, end=lambda i: "city-missing") + partners(30)
    with pytest.raises(LoadInterrupted, match="found an end missing"):
        with BatchWriter(1, known_new([c.data["id"] for c in cities] + ["city-missing"])) as batches:
            for item in cities + ties:
                batches.add(item)
    assert writer_threads() == []
    written = db.read("MATCH ()-[r:LOCATED_IN]->() RETURN count(r) AS c")[0]["c"]
    assert written < len(ties) - 1


def test_progress_counts_every_input_row_though_a_repeated_tie_is_written_once(empty_db):
    reported = []
    given = (CITY, ALLIANCE, member_of(), member_of())
    with BatchWriter(10, NewRecords(), reported.append) as batches:
        for item in given:
            batches.add(item)
    assert members() == [("city-w", "org-w")]
    assert batches.written["MEMBER_OF"] == 1
    assert sum(reported) == len(given)
