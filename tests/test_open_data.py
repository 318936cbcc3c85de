"""The cited open dataset (seeds/open): every source read and dated, every fact cited, no silent
duplicates, and the coverage the dataset promises, counted in the loaded graph."""
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kb import db, keys
from kb.cli import main
from tests.conftest import SEEDS

OPEN = SEEDS / "open"


def open_records(section: str) -> list[tuple[Path, dict]]:
    return [(path, record) for path in sorted(OPEN.glob("*.yaml"))
            for record in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(section) or []]


def test_every_open_source_names_the_page_read_and_when():
    sources = [(path.name, s) for path, s in open_records("entities") if s["type"] == "Source"]
    assert sources
    unread = [(name, s["id"]) for name, s in sources if not (s.get("url") and s.get("accessed"))]
    assert unread == [], "sources without url or accessed date"


def test_every_open_fact_cites_a_source():
    uncited = [(path.name, r.get("id") or (r["from"], r["type"], r["to"])) for section in ("entities", "relations")
               for path, r in open_records(section) if r.get("type") != "Source" and not r.get("sources")]
    assert uncited == []


def test_entities_sharing_a_name_and_type_say_why_in_a_note(seeded_readonly):
    by_key = {}
    for path, entity in open_records("entities"):
        if entity["type"] != "Source":
            for key in keys.keys_for(entity["name"]):
                by_key.setdefault((entity["type"], key), {})[entity["id"]] = entity
    shared = {key: entities for key, entities in by_key.items() if len(entities) > 1}
    unexplained = {key: sorted(entities) for key, entities in shared.items()
                   if not all(e.get("note") for e in entities.values())}
    assert unexplained == {}


def test_the_seed_folder_validates_through_the_cli(seeded_readonly):
    result = CliRunner().invoke(main, ["validate", str(SEEDS)])
    assert result.exit_code == 0 and "validated" in result.output, result.output


COVERAGE = {
    "sister-city partnerships between a Chinese and a German city": (
        60, "MATCH (a:City {country: 'CN'})-[r:SISTER_CITY_OF]-(b:City {country: 'DE'}) RETURN count(r) AS c"),
    "Chinese acquisitions of or stakes in German firms": (
        30, "MATCH (:Company {country: 'CN'})-[r:ACQUIRED]->(:Company {country: 'DE'}) RETURN count(r) AS c"),
    "joint ventures and production bases of German firms in China": (
        20, "CALL () { MATCH (:Company {country: 'DE'})-[:PARENT_OF]->(v:Company {country: 'CN'}) "
            "RETURN count(DISTINCT v) AS n UNION ALL "
            "MATCH (:Company {country: 'DE'})-[r:PRODUCTION_BASE_IN]->(:City {country: 'CN'}) RETURN count(r) AS n } "
            "RETURN sum(n) AS c"),
    "Sino-German industrial parks with their city": (
        10, "MATCH (o:Organization {kind: 'industrial park'})-[:LOCATED_IN]->(:City) RETURN count(DISTINCT o) AS c"),
}


@pytest.mark.parametrize("what", sorted(COVERAGE))
def test_the_open_set_covers_what_it_promises(seeded_readonly, what):
    least, cypher = COVERAGE[what]
    found = db.read(cypher)[0]["c"]
    assert found >= least, f"{what}: {found} < {least}"


@pytest.mark.parametrize("what, cypher", [
    ("firm without a home country", "MATCH (f:Company) WHERE NOT (f)-[:HOME_COUNTRY]->() RETURN f.id AS id"),
    ("region outside any country", "MATCH (r:Region) WHERE NOT (r)-[:LOCATED_IN]->(:Country) RETURN r.id AS id"),
    ("park without a founding year or note", "MATCH (o:Organization {kind: 'industrial park'}) "
                                             "WHERE o.founded IS NULL AND o.note IS NULL RETURN o.id AS id"),
    ("deal without a status", "MATCH (:Company {country: 'CN'})-[r:ACQUIRED]->(t:Company {country: 'DE'}) "
                              "WHERE r.status IS NULL AND r.note IS NULL RETURN t.id AS id"),
])
def test_open_entities_are_placed(seeded_readonly, what, cypher):
    assert [r["id"] for r in db.read(cypher)] == [], what
