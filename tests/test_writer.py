"""The writer finds the ends of a relation by element id when this load wrote them, and only then."""
import pytest

from kb import db
from kb.errors import LoadInterrupted
from loaders import writer
from loaders.new_records import NewRecords
from loaders.records import Row, Tie
from loaders.writer import BatchWriter

CITY = Row(True, "City", {"id": "city-w", "name": "Wuxi"})
ALLIANCE = Row(True, "Organization", {"id": "org-w", "name": "W Alliance"})


def member_of(start="city-w", end="org-w"):
    return Row(False, "MEMBER_OF", Tie(start, end, None, {"note": "written"}))


def members() -> list[tuple[str, str]]:
    return [tuple(r.values()) for r in db.read("MATCH (a)-[:MEMBER_OF]->(b) RETURN a.id AS a, b.id AS b")]


@pytest.fixture
def statements_used(monkeypatch):
    """The (type, create, by_element) of every relation statement the writer builds."""
    used = []
    build = writer.relation_statement

    def recording(type_name, create=False, by_element=False):
        used.append((type_name, create, by_element))
        return build(type_name, create, by_element)

    monkeypatch.setattr(writer, "relation_statement", recording)
    return used


def test_a_relation_between_entities_the_load_wrote_finds_them_by_element_id(empty_db, statements_used):
    with BatchWriter(10, NewRecords()) as batches:
        for item in (CITY, ALLIANCE, member_of()):
            batches.add(item)
    assert statements_used == [("MEMBER_OF", False, True)]
    assert members() == [("city-w", "org-w")]
    assert db.read("MATCH ()-[r:MEMBER_OF]->() RETURN r.note AS note")[0]["note"] == "written"


def test_a_relation_to_an_entity_stored_before_finds_it_by_id(empty_db, statements_used):
    db.write("CREATE (:Entity:Organization {id: 'org-w', name: 'W Alliance'})")
    with BatchWriter(10, NewRecords()) as batches:
        for item in (CITY, member_of()):
            batches.add(item)
    assert statements_used == [("MEMBER_OF", False, False)]
    assert members() == [("city-w", "org-w")]


def test_an_element_id_that_names_another_node_is_not_followed(empty_db):
    db.write("CREATE (:Entity:City {id: 'city-other', name: 'Other'})")
    other = db.read("MATCH (n {id: 'city-other'}) RETURN elementId(n) AS id")[0]["id"]
    with pytest.raises(LoadInterrupted, match="1 of 1 MEMBER_OF relations found an end missing"):
        with BatchWriter(10, NewRecords()) as batches:
            for item in (CITY, ALLIANCE):
                batches.add(item)
            batches.add(member_of())
            # As if city-w had been deleted and its element id reused for city-other.
            batches.relations.clear()
            batches.elements["city-w"] = other
            batches.add(member_of())
    assert members() == []


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
    # A batch that overtook its predecessor is sent again (loaders/turns.py).
    assert len(sent) >= 3
    assert all("<1 rows>" in message for message in sent)
    assert not any("Wuxi" in message or "W Alliance" in message for message in sent)
    assert members() == [("city-w", "org-w")]
