"""`kb load gleif`: golden copy LEI records and relationship records, CN and DE firms and their
counterparts only; the expected figures are read from the fixture files themselves."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import db, keys
from kb.cli import main
from kb.errors import InvalidRecord, SchemaError
from kb.schema import parse, schema
from loaders import gleif, pipeline
from tests.conftest import graph_counts

DATA = Path(__file__).parent / "data" / "gleif"
LEVEL1, LEVEL2 = DATA / "lei-records.csv", DATA / "relationship-records.csv"


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected() -> tuple[dict, list]:
    """The LEI records a CN/DE filter keeps (by LEI) and the relationship records it keeps."""
    entities = {row["LEI"]: row for row in rows(LEVEL1)}
    tied = {lei for lei, row in entities.items()
            if {row["Entity.LegalAddress.Country"], row["Entity.HeadquartersAddress.Country"]} & {"CN", "DE"}}
    ties = [row for row in rows(LEVEL2)
            if row["Relationship.StartNode.NodeID"] in tied or row["Relationship.EndNode.NodeID"] in tied]
    kept = tied | {row[end] for row in ties for end in ("Relationship.StartNode.NodeID", "Relationship.EndNode.NodeID")}
    return {lei: entities[lei] for lei in kept}, ties


def load(*paths):
    return pipeline.load(gleif.reader(paths), show_progress=False)


def stored_companies() -> dict:
    return {row["lei"]: row.data() for row in db.read(
        "MATCH (c:Company) WHERE c.lei IS NOT NULL RETURN c.lei AS lei, c.id AS id, c.name AS name, c.country AS country")}


def test_loads_cn_and_de_firms_their_counterparts_and_ties(seeded_db):
    companies, ties = expected()
    load(LEVEL1, LEVEL2)
    stored = stored_companies()
    assert set(stored) == set(companies), stored
    for lei, row in companies.items():
        assert (stored[lei]["name"], stored[lei]["country"]) == \
               (row["Entity.LegalName"], row["Entity.LegalAddress.Country"]), stored[lei]
    found = db.read("MATCH (a:Company)-[r:CONSOLIDATES|BRANCH_OF]->(b:Company) "
                    "RETURN a.lei AS a, type(r) AS type, r.level AS level, r.status AS status, "
                    "r.since AS since, r.until AS until, b.lei AS b")
    got = sorted((r["a"], r["type"], r["level"], r["status"], r["since"], r["until"], r["b"]) for r in found)
    wanted = []
    for row in ties:
        child, parent = row["Relationship.StartNode.NodeID"], row["Relationship.EndNode.NodeID"]
        period = next(n for n in range(1, 6) if row[f"Relationship.Period.{n}.periodType"] == "RELATIONSHIP_PERIOD")
        dates = (row[f"Relationship.Period.{period}.startDate"][:10] or None,
                 row[f"Relationship.Period.{period}.endDate"][:10] or None)
        kind = row["Relationship.RelationshipType"]
        if kind == "IS_INTERNATIONAL_BRANCH_OF":
            wanted.append((child, "BRANCH_OF", None, row["Relationship.RelationshipStatus"].lower(), *dates, parent))
        else:
            level = "direct" if kind == "IS_DIRECTLY_CONSOLIDATED_BY" else "ultimate"
            wanted.append((parent, "CONSOLIDATES", level, row["Relationship.RelationshipStatus"].lower(), *dates, child))
    assert got == sorted(wanted)


def test_each_firm_is_headquartered_in_its_city(seeded_db):
    companies, _ = expected()
    load(LEVEL1, LEVEL2)
    found = {row["lei"]: row for row in db.read(
        "MATCH (c:Company)-[:HEADQUARTERED_IN]->(city:City) WHERE c.lei IS NOT NULL "
        "RETURN c.lei AS lei, city.id AS id, city.name AS name, city.aliases AS aliases, city.country AS country")}
    assert set(found) == set(companies)
    for lei, row in companies.items():
        city = found[lei]
        names = set(keys.keys_for(city["name"], *(city["aliases"] or [])))
        assert keys.keys_for(row["Entity.HeadquartersAddress.City"])[0] in names, (row, city)
        assert city["country"] == row["Entity.HeadquartersAddress.Country"], (row, city)
    # A city the seeds hold is the seeds' city, not a second one: Augsburg and Foshan are.
    assert {"city-augsburg", "city-foshan"} <= {city["id"] for city in found.values()}


def test_the_filter_drops_firms_without_a_tie_to_china_or_germany(seeded_db):
    companies, _ = expected()
    load(LEVEL1, LEVEL2)
    dropped = {row["LEI"] for row in rows(LEVEL1)} - set(companies)
    assert dropped, "the fixture has rows the filter must drop"
    assert not dropped & set(stored_companies())


def test_loading_twice_changes_nothing(seeded_db):
    load(LEVEL1, LEVEL2)
    first = graph_counts(), stored_companies()
    load(LEVEL1, LEVEL2)
    assert (graph_counts(), stored_companies()) == first


def test_cli_loads_both_files(seeded_db):
    result = CliRunner().invoke(main, ["load", "gleif", str(LEVEL1), str(LEVEL2)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert set(stored_companies()) == set(expected()[0])


def _copy_with(tmp_path: Path, source: Path, line: int, column: str, value: str) -> Path:
    """The file with one cell changed (line counted as in the file, header = 1)."""
    with open(source, newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    table[line - 1][table[0].index(column)] = value
    copy = tmp_path / source.name
    with open(copy, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(table)
    return copy


MALFORMED = [
    (LEVEL1, 2, "LEI", "5299000KUKATEST00148", "'lei'"),                      # check digits wrong
    (LEVEL1, 3, "Entity.LegalAddress.Country", "China", "Entity.LegalAddress.Country"),
    (LEVEL1, 2, "Entity.LegalName", "", "'name'"),
    (LEVEL2, 2, "Relationship.RelationshipType", "IS_FRIEND_OF", "Relationship.RelationshipType"),
    (LEVEL2, 3, "Relationship.Period.1.startDate", "6 January 2017", "'since'"),
]


@pytest.mark.parametrize("source, line, column, value, field", MALFORMED, ids=[m[2] for m in MALFORMED])
def test_a_malformed_row_is_refused_with_file_line_and_field(seeded_db, tmp_path, source, line, column, value, field):
    bad = _copy_with(tmp_path, source, line, column, value)
    other = LEVEL2 if source == LEVEL1 else LEVEL1
    before = graph_counts()
    with pytest.raises(InvalidRecord) as refused:
        load(*sorted([bad, other]))
    message = str(refused.value)
    assert f"{bad} line {line}" in message and field in message, message
    assert graph_counts() == before


def test_a_file_of_another_layout_is_refused(seeded_db, tmp_path):
    other = tmp_path / "nodes.csv"
    other.write_text("id:ID,:LABEL,name\ncity-x,City,X\n", encoding="utf-8")
    with pytest.raises(InvalidRecord, match="not a GLEIF golden copy CSV file"):
        load(other)


def test_entity_page_links_the_firms_open_record(seeded_db):
    from tests.test_app import open_page
    load(LEVEL1, LEVEL2)
    lei, firm = next(iter(stored_companies().items()))
    at = open_page("entity", id=firm["id"])
    link = schema().entity("Company").properties["lei"].link.format(lei)
    assert any(link in block.value for block in at.markdown), [block.value for block in at.markdown]


def test_a_link_pattern_needs_one_place_for_the_value():
    document = {"entities": {"City": {"properties": {"code": {"type": "string", "link": "https://example.org/"}}}}}
    with pytest.raises(SchemaError, match="entities.City.code: link"):
        parse(document)


def test_stats_count_entities_per_source(seeded_db):
    load(LEVEL1, LEVEL2)
    result = CliRunner().invoke(main, ["stats", "--format", "json"], catch_exceptions=False)
    per_source = json.loads(result.output)["entities_per_source"]
    source_id = gleif.inspect(LEVEL1).source_id
    citing = db.read("MATCH (e:Entity) WHERE $source IN e.sources RETURN count(e) AS n", source=source_id)[0]["n"]
    assert per_source[source_id] == citing >= len(expected()[0]), per_source
    assert sum(per_source.values()) == db.read("MATCH (e:Entity) RETURN sum(size(coalesce(e.sources, []))) AS n")[0]["n"]
