"""The cited open dataset (seeds/open): every source read and dated, every fact cited, no silent
duplicates, and the coverage the dataset promises, counted in the loaded graph."""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import db, keys
from kb.cli import main
from kb.in_force import NOT_IN_FORCE, in_force
from kb.schema import schema
from tests.conftest import SEEDS, seed_file_records, seed_records, tie_identity

OPEN = SEEDS / "open"


def open_records(section: str) -> list[tuple[Path, dict]]:
    return seed_file_records(section, OPEN)


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


ENTITIES = {entity["id"]: entity for entity in seed_records("entities")}


def is_(entity_id: str, entity_type: str, country: str | None = None) -> bool:
    entity = ENTITIES[entity_id]
    return entity["type"] == entity_type and (country is None or entity.get("country") == country)


def ties(*types: str, start=lambda e: True, end=lambda e: True, in_force_only: bool = False) -> set:
    """The distinct ties of the seed files of those types whose ends pass the tests (as the graph
    holds them: a symmetric tie once, whichever way the file gives it); with in_force_only, not the
    planned, abandoned or failed ones."""
    found = set()
    for relation in seed_records("relations"):
        if relation["type"] not in types or (in_force_only and relation.get("status") in NOT_IN_FORCE):
            continue
        kind = schema().relation(relation["type"])
        ends = [(relation["from"], relation["to"])]
        if kind.symmetric:
            ends.append((relation["to"], relation["from"]))
        for a, b in ends:
            if start(a) and end(b):
                found.add((relation["type"], *sorted((a, b))) if kind.symmetric
                          else (relation["type"], a, b, relation.get(kind.key) if kind.key else None))
    return found


GERMAN_VENTURES = {b for _, a, b, _ in ties("PARENT_OF", start=lambda e: is_(e, "Company", "DE"),
                                            end=lambda e: is_(e, "Company", "CN"))}
# (minimum the dataset promises, the ties of the seed files, the same ties counted in the loaded graph).
# Acquisitions and sister cities meet issue 23's targets of 150 and 100; sister cities count pairs in
# force only (not those planned, abandoned or informal).
COVERAGE = {
    "Chinese acquisitions of or stakes in German firms": (
        150, lambda: ties("ACQUIRED", start=lambda e: is_(e, "Company", "CN"), end=lambda e: is_(e, "Company", "DE")),
        "MATCH (:Company {country: 'CN'})-[r:ACQUIRED]->(:Company {country: 'DE'}) RETURN count(r) AS c"),
    "German firms' ventures, plants and sites in China": (
        100, lambda: ties("PARENT_OF", start=lambda e: is_(e, "Company", "DE"), end=lambda e: is_(e, "Company", "CN"))
        | ties("PRODUCTION_BASE_IN", "SITE_IN", start=lambda e: is_(e, "Company", "DE") or e in GERMAN_VENTURES,
               end=lambda e: is_(e, "City", "CN")),
        "CALL () { MATCH (:Company {country: 'DE'})-[r:PARENT_OF]->(:Company {country: 'CN'}) RETURN r "
        "UNION MATCH (f:Company)-[r:PRODUCTION_BASE_IN|SITE_IN]->(:City {country: 'CN'}) "
        "WHERE f.country = 'DE' OR (:Company {country: 'DE'})-[:PARENT_OF]->(f) RETURN r } RETURN count(r) AS c"),
    "Chinese firms' own sites in Germany": (
        30, lambda: ties("PRODUCTION_BASE_IN", "SITE_IN", start=lambda e: is_(e, "Company", "CN"),
                         end=lambda e: is_(e, "City", "DE")),
        "MATCH (:Company {country: 'CN'})-[r:PRODUCTION_BASE_IN|SITE_IN]->(:City {country: 'DE'}) RETURN count(r) AS c"),
    "partnerships between Chinese provinces and German states": (
        15, lambda: ties("REGION_PARTNER_OF", start=lambda e: is_(e, "Region", "CN"), end=lambda e: is_(e, "Region", "DE")),
        "MATCH (:Region {country: 'CN'})-[r:REGION_PARTNER_OF]-(:Region {country: 'DE'}) RETURN count(r) AS c"),
    "sister-city partnerships between a Chinese and a German city": (
        100,  # issue 23's target (docs/coverage/deals-and-twins.md)
        lambda: ties("SISTER_CITY_OF", start=lambda e: is_(e, "City", "CN"), end=lambda e: is_(e, "City", "DE"),
                         in_force_only=True),
        "MATCH (a:City {country: 'CN'})-[r:SISTER_CITY_OF]-(b:City {country: 'DE'}) "
        "WHERE r.status IS NULL OR NOT r.status IN $not_in_force RETURN count(r) AS c"),
    "Sino-German industrial parks and cooperation zones with their place": (
        25, lambda: {a for _, a, _, _ in ties("LOCATED_IN", start=lambda e: ENTITIES[e].get("kind") in PARK_KINDS)},
        "MATCH (o:Organization)-[:LOCATED_IN]->() WHERE o.kind IN $kinds RETURN count(DISTINCT o) AS c"),
    "German organisers' trade fairs in China": (
        15, lambda: {a for _, a, _, _ in ties("ORGANIZED_BY", start=lambda e: ENTITIES[e].get("kind") == "trade fair",
                                               end=lambda e: ENTITIES[e].get("country") == "DE")}
        & {a for _, a, _, _ in ties("HELD_IN", end=lambda e: is_(e, "City", "CN"))},
        "MATCH (f:Event {kind: 'trade fair'})-[:ORGANIZED_BY]->({country: 'DE'}) WHERE (f)-[:HELD_IN]->(:City {country: 'CN'}) "
        "RETURN count(DISTINCT f) AS c"),
}
PARK_KINDS = ["industrial park", "cooperation zone"]


@pytest.mark.parametrize("what", sorted(COVERAGE))
def test_the_open_set_covers_what_it_promises(seeded_readonly, what):
    least, in_files, cypher = COVERAGE[what]
    expected = len(in_files())
    found = db.read(cypher, kinds=PARK_KINDS, not_in_force=list(NOT_IN_FORCE))[0]["c"]
    assert found == expected, f"{what}: the graph holds {found}, the seed files {expected}"
    assert found >= least, f"{what}: {found} < {least}"


def has_chinese_name(entity: dict) -> bool:
    return any(CJK.search(name) for name in [entity["name"], *(entity.get("aliases") or [])])


CJK = re.compile(r"[\u4e00-\u9fff]")


# What the dataset holds today (89% and 69%); issue 23's targets, 95% and 80%, are not met yet
# (docs/DATA.md, docs/coverage/names.md).
@pytest.mark.parametrize("what, chosen, least", [
    ("Chinese entities (people aside: no page gives their names in characters)",
     lambda e: e.get("country") == "CN" and e["type"] not in ("Person", "Source"), 0.89),
    ("German cities", lambda e: e["type"] == "City" and e.get("country") == "DE", 0.69),
])
def test_names_in_chinese_characters(what, chosen, least):
    entities = [e for e in ENTITIES.values() if chosen(e)]
    named = [e for e in entities if has_chinese_name(e)]
    assert entities and len(named) / len(entities) >= least, \
        f"{what}: {len(named)} of {len(entities)} carry a name in Chinese characters; lacking: " \
        f"{sorted(e['id'] for e in entities if not has_chinese_name(e))[:20]}"


def test_every_source_says_what_kind_of_publisher_it_is():
    sources = [e for e in ENTITIES.values() if e["type"] == "Source"]
    unsaid = [s["id"] for s in sources if not s.get("publisher_kind")]
    assert sources and unsaid == [], unsaid


# Issue 23's target is 1%, not met yet: 2.4% of the ties rest on copies alone today (42 of 1,773; docs/coverage/mirrors.md).
MIRROR_ONLY_AT_MOST = 0.025


def test_few_ties_rest_on_copies_alone():
    mirrors = {e["id"] for e in ENTITIES.values() if e["type"] == "Source" and e.get("publisher_kind") == "mirror"}
    relations = seed_records("relations")
    on_copies = [(r["from"], r["type"], r["to"]) for r in relations if set(r["sources"]) <= mirrors]
    assert len(on_copies) <= MIRROR_ONLY_AT_MOST * len(relations), f"{len(on_copies)} of {len(relations)}: {on_copies[:10]}"


def test_plans_and_failed_deals_are_never_in_force(seeded_readonly):
    """A tie whose status says it never held (a plan, an abandoned plant, a blocked deal) is left
    out by the year filter in any year, dated or not."""
    not_in_force = [r for r in seed_records("relations") if r.get("status") in NOT_IN_FORCE]
    assert not_in_force, "the seed files hold plans and failed deals to check this on"
    found = db.read(f"MATCH ()-[r]->() WHERE r.status IN $statuses WITH r, 2100 AS year, true AS undated "
                    f"WITH r WHERE {in_force('r').replace('$year', 'year').replace('$undated', 'undated')} "
                    "RETURN count(r) AS c", statuses=list(NOT_IN_FORCE))[0]["c"]
    assert found == 0
    held = db.read("MATCH ()-[r]->() WHERE r.status IN $statuses RETURN count(r) AS c",
                   statuses=list(NOT_IN_FORCE))[0]["c"]
    assert held == len({(r["from"], r["type"], r["to"]) for r in not_in_force}), "they are in the graph, shown on demand"


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


def test_every_tie_is_stated_once_across_the_files():
    """A tie two files both state would be counted twice in a load's report: its sources go together."""
    stated = {}
    for path, relation in seed_file_records("relations"):
        stated.setdefault(tie_identity(relation), []).append(path.name)
    assert {identity: files for identity, files in stated.items() if len(files) > 1} == {}
