"""Constraints and the search index, as kb init leaves them."""
from kb import db, ddl, search
from loaders import pipeline, seed
from tests.conftest import SEEDS


def _search_index_properties() -> list[str]:
    found = db.read("SHOW FULLTEXT INDEXES YIELD name, properties WHERE name = $name RETURN properties",
                    name=ddl.SEARCH_INDEX)
    return found[0]["properties"]


def test_init_is_idempotent_and_indexes_only_the_search_text(empty_db):
    assert ddl.init() == len(ddl.statements())
    assert _search_index_properties() == ["search_text"]
    constraints = {r["name"] for r in db.read("SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"entity_id", "city_id", "company_id"} <= constraints
    indexes = {r["name"] for r in db.read("SHOW RANGE INDEXES YIELD name RETURN name")}
    assert {"entity_wikidata_id", "entity_lei"} <= indexes, "external ids are looked up by reconciliation"


def test_init_rebuilds_a_search_index_made_by_an_earlier_version(empty_db):
    db.write(f"DROP INDEX {ddl.SEARCH_INDEX}")
    db.write(f"CREATE FULLTEXT INDEX {ddl.SEARCH_INDEX} FOR (n:Entity) ON EACH [n.name, n.aliases, n.search_text]")
    assert sorted(_search_index_properties()) == ["aliases", "name", "search_text"]

    ddl.init()

    assert _search_index_properties() == ["search_text"]
    pipeline.load(seed.reader([SEEDS]), show_progress=False)
    assert search.search("Goettingen")[0].id == "city-goettingen"
