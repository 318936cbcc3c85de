"""Constraints and the search index, as kb init leaves them."""
import pytest

from kb import db, ddl, search
from kb.schema import schema
from loaders import pipeline, seed
from tests.conftest import SEEDS


def _search_index_properties() -> list[str]:
    found = db.read("SHOW FULLTEXT INDEXES YIELD name, properties WHERE name = $name RETURN properties",
                    name=ddl.SEARCH_INDEX)
    return found[0]["properties"]


def _schema_objects() -> tuple[set, set]:
    constraints = {r["name"] for r in db.read("SHOW CONSTRAINTS YIELD name RETURN name")}
    indexes = {r["name"] for r in db.read("SHOW INDEXES YIELD name RETURN name")}
    return constraints, indexes


def test_init_makes_a_constraint_per_type_and_an_index_per_external_id_and_is_idempotent(empty_db):
    ddl.init()
    constraints, indexes = _schema_objects()
    wanted = {"entity_id"} | {f"{name.lower()}_id" for name in schema().entities}
    assert wanted <= constraints, wanted - constraints
    assert {f"entity_{name}" for name in schema().external_ids} <= indexes, "reconciliation looks them up"
    assert _search_index_properties() == ["search_text"]
    ddl.init()
    assert _schema_objects() == (constraints, indexes), "a second init changes nothing"
    with pytest.raises(Exception, match="already exists|ConstraintValidationFailed"):
        db.write("CREATE (:Entity:City {id: 'twice', name: 'x'}) CREATE (:Entity:City {id: 'twice', name: 'y'})")


def test_init_rebuilds_a_search_index_made_by_an_earlier_version(empty_db):
    db.write(f"DROP INDEX {ddl.SEARCH_INDEX}")
    db.write(f"CREATE FULLTEXT INDEX {ddl.SEARCH_INDEX} FOR (n:Entity) ON EACH [n.name, n.aliases, n.search_text]")
    assert sorted(_search_index_properties()) == ["aliases", "name", "search_text"]

    ddl.init()

    assert _search_index_properties() == ["search_text"]
    pipeline.load(seed.reader([SEEDS]), show_progress=False)
    assert search.search("Goettingen")[0].id == "city-goettingen"
