"""Reconciliation (loaders/reconcile.py) through pipeline.load against the real database: a named
source's records matched by id, external id or name, ambiguous ones held back, decisions applied
and kept, and merged facts citing every source."""
import dataclasses
import textwrap

import pytest

from kb import db
from loaders import pipeline, seed
from loaders.reconcile import AMBIGUOUS, CREATED, HELD, MATCHED, NEW, SAME_AS, Decision
from tests.conftest import SEEDS, graph_counts

# The curated places (city-foshan, city-hanover, ...) and the sources they cite: a base that the
# growing open-data seeds do not change.
PLACE_SEEDS = [SEEDS / "places.yaml", SEEDS / "sources.yaml"]
SOURCE = "test-source"


@pytest.fixture
def curated_db(empty_db):
    """The database holding the curated seed places and their sources."""
    pipeline.load(seed.reader(PLACE_SEEDS), show_progress=False)
    return empty_db


def named(path, decisions=None):
    """Load a seed-format file as if a named source had proposed its ids."""
    records = dataclasses.replace(seed.reader([path]), source_name=SOURCE)
    return pipeline.load(records, show_progress=False, decisions=decisions)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def entity(entity_id):
    found = db.read("MATCH (n:Entity {id: $id}) RETURN properties(n) AS p", id=entity_id)
    return found[0]["p"] if found else None


def held(report):
    return [o.reason for o in report.reconciliation if o.outcome == HELD]


def outcomes(report):
    return {o.proposed_id: o for o in report.reconciliation}


PROPOSED = """
entities:
  - {id: src-t1, type: Source, name: T1, title: T1, kind: dataset}
  - {id: tst-foshan, type: City, name: Foshan, aliases: [佛山市, Fatshan], country: CN, wikidata_id: Q1,
     sources: [src-t1]}
  - {id: tst-new-town, type: City, name: Newtown, country: DE, sources: [src-t1]}
relations:
  - {from: tst-new-town, type: SISTER_CITY_OF, to: tst-foshan, sources: [src-t1], since: "1990"}
"""


def test_a_record_matches_a_stored_entity_by_name_type_and_country(curated_db, tmp_path):
    nodes, relations = graph_counts()
    report = named(write(tmp_path, "t1.yaml", PROPOSED))
    found = outcomes(report)
    assert (found["tst-foshan"].outcome, found["tst-foshan"].id, found["tst-foshan"].matched_on) == \
        (MATCHED, "city-foshan", "name")
    assert found["tst-new-town"].outcome == CREATED
    foshan = entity("city-foshan")
    assert foshan["wikidata_id"] == "Q1" and foshan["name"] == "Foshan", foshan
    assert foshan["sources"][-1] == "src-t1" and "src-foshan-2019" in foshan["sources"], foshan
    assert {"佛山", "佛山市", "Fatshan"} <= set(foshan["aliases"]), foshan
    assert entity("tst-foshan") is None
    # The source, the new town and their tie: nothing else.
    assert graph_counts() == (nodes + 2, relations + 1)
    tie = db.read("MATCH (:City {id: 'city-foshan'})-[r:SISTER_CITY_OF]-(:City {id: 'tst-new-town'}) "
                  "RETURN r.sources AS s, r.since AS since")
    assert [(t["s"], t["since"]) for t in tie] == [(["src-t1"], "1990")]
    # The alias it brought is searchable.
    assert "fatshan" in foshan["search_keys"] and "fatshan" in foshan["search_text"].split("\n")


def test_a_second_load_matches_on_id_and_changes_nothing(curated_db, tmp_path):
    path = write(tmp_path, "t1.yaml", PROPOSED)
    named(path)
    before, foshan = graph_counts(), entity("city-foshan")
    found = outcomes(named(path))
    assert (found["tst-foshan"].matched_on, found["tst-new-town"].matched_on) == ("wikidata_id", "id")
    assert graph_counts() == before and entity("city-foshan") == foshan


@pytest.mark.parametrize("name, value", [("wikidata_id", "Q1715"), ("lei", "5493001KJTIIGC8Y1R12")])
def test_an_external_id_wins_over_the_name(curated_db, tmp_path, name, value):
    db.write(f"MATCH (n:City {{id: 'city-hanover'}}) SET n.{name} = $value", value=value)
    report = named(write(tmp_path, "t.yaml", f"""
        entities:
          - {{id: src-t1, type: Source, name: T1, title: T1, kind: dataset}}
          - {{id: tst-h, type: City, name: Landeshauptstadt H, country: DE, {name}: {value}, sources: [src-t1]}}
        """))
    found = outcomes(report)["tst-h"]
    assert (found.outcome, found.id, found.matched_on) == (MATCHED, "city-hanover", name)
    assert "Landeshauptstadt H" in entity("city-hanover")["aliases"]


def test_an_external_id_failing_its_check_is_refused_with_place_and_field(curated_db, tmp_path):
    from kb.errors import InvalidRecord
    before = graph_counts()
    path = write(tmp_path, "t.yaml", PROPOSED.replace("wikidata_id: Q1,", "lei: 5493001KJTIIGC8Y1R13,"))
    with pytest.raises(InvalidRecord) as refused:
        named(path)
    problem = str(refused.value)
    assert f"{path} line 3" in problem and "field 'lei'" in problem and "check digits are wrong" in problem, problem
    assert graph_counts() == before


def test_a_conflicting_external_id_makes_a_name_match_ambiguous(curated_db, tmp_path):
    db.write("MATCH (n:City {id: 'city-hanover'}) SET n.wikidata_id = 'Q1715'")
    before = graph_counts()
    report = named(write(tmp_path, "t.yaml", """
        entities:
          - {id: src-t1, type: Source, name: T1, title: T1, kind: dataset}
          - {id: tst-h, type: City, name: Hannover, country: DE, wikidata_id: Q99, sources: [src-t1]}
        relations:
          - {from: tst-h, type: SISTER_CITY_OF, to: city-foshan, sources: [src-t1]}
        """))
    found = outcomes(report)
    assert (found["tst-h"].outcome, found["tst-h"].candidates) == (AMBIGUOUS, "city-hanover")
    assert "wikidata_id differs" in found["tst-h"].reason
    assert held(report) == ["touches the ambiguous record tst-h"]
    assert graph_counts() == (before[0] + 1, before[1])     # only the source
    assert entity("city-hanover")["wikidata_id"] == "Q1715"


def test_another_country_or_type_is_no_match(curated_db, tmp_path):
    report = named(write(tmp_path, "t.yaml", """
        entities:
          - {id: src-t1, type: Source, name: T1, title: T1, kind: dataset}
          - {id: tst-foshan-de, type: City, name: Foshan, country: DE, sources: [src-t1]}
          - {id: tst-foshan-org, type: Organization, name: Foshan, country: CN, sources: [src-t1]}
        """))
    assert {o.outcome for o in report.reconciliation} == {CREATED}
    assert entity("tst-foshan-de") and entity("tst-foshan-org")


TWINS = """
entities:
  - {id: src-t0, type: Source, name: T0, title: T0, kind: dataset}
  - {id: city-neustadt-a, type: City, name: Neustadt, country: DE, sources: [src-t0]}
  - {id: city-neustadt-b, type: City, name: Neustadt, country: DE, sources: [src-t0]}
"""

AMBIGUOUS_RECORD = """
entities:
  - {id: src-t2, type: Source, name: T2, title: T2, kind: dataset}
  - {id: tst-neustadt, type: City, name: Neustadt, country: DE, sources: [src-t2]}
relations:
  - {from: tst-neustadt, type: SISTER_CITY_OF, to: city-foshan, sources: [src-t2]}
"""


def test_two_candidates_are_ambiguous_until_a_decision_which_later_loads_repeat(curated_db, tmp_path):
    pipeline.load(seed.reader([write(tmp_path, "twins.yaml", TWINS)]), show_progress=False)
    path = write(tmp_path, "t2.yaml", AMBIGUOUS_RECORD)
    before = graph_counts()
    report = named(path)
    found = outcomes(report)
    assert (found["tst-neustadt"].outcome, found["tst-neustadt"].candidates) == \
        (AMBIGUOUS, "city-neustadt-a;city-neustadt-b")
    assert held(report) == ["touches the ambiguous record tst-neustadt"]
    assert graph_counts() == (before[0] + 1, before[1])

    decided = {(SOURCE, "tst-neustadt"): Decision(SAME_AS, "city-neustadt-b", "decisions.csv line 2")}
    found = outcomes(named(path, decided))
    assert (found["tst-neustadt"].outcome, found["tst-neustadt"].id, found["tst-neustadt"].matched_on) == \
        (MATCHED, "city-neustadt-b", "decision")
    tie = "MATCH (:City {id: $id})-[r:SISTER_CITY_OF]-(:City {id: 'city-foshan'}) RETURN r.sources AS s"
    assert [r["s"] for r in db.read(tie, id="city-neustadt-b")] == [["src-t2"]]
    after = graph_counts()
    assert after == (before[0] + 1, before[1] + 1)

    found = outcomes(named(path))       # no decisions given: the graph remembers
    assert (found["tst-neustadt"].id, found["tst-neustadt"].matched_on) == ("city-neustadt-b", "decision")
    assert graph_counts() == after
    assert entity("city-neustadt-b")["reconciled_from"] == [f"{SOURCE}:tst-neustadt"]
    assert "reconciled_from" not in entity("city-neustadt-a")


def test_a_new_decision_creates_the_record_and_later_loads_find_it_by_id(curated_db, tmp_path):
    pipeline.load(seed.reader([write(tmp_path, "twins.yaml", TWINS)]), show_progress=False)
    path = write(tmp_path, "t2.yaml", AMBIGUOUS_RECORD)
    found = outcomes(named(path, {(SOURCE, "tst-neustadt"): Decision(NEW, origin="decisions.csv line 2")}))
    assert (found["tst-neustadt"].outcome, found["tst-neustadt"].id) == (CREATED, "tst-neustadt")
    after = graph_counts()
    found = outcomes(named(path))
    assert (found["tst-neustadt"].outcome, found["tst-neustadt"].matched_on) == (MATCHED, "id")
    assert graph_counts() == after


def test_a_tie_stated_by_two_sources_cites_both(curated_db, tmp_path):
    first = write(tmp_path, "t1.yaml", PROPOSED)
    second = write(tmp_path, "t3.yaml", PROPOSED.replace("src-t1", "src-t3").replace("T1", "T3")
                   .replace('since: "1990"', 'note: Signed in Foshan'))
    named(first)
    named(second)
    ties = db.read("MATCH (:City {id: 'city-foshan'})-[r:SISTER_CITY_OF]-(:City {id: 'tst-new-town'}) "
                   "RETURN r.sources AS s, r.since AS since, r.note AS note")
    assert [(t["s"], t["since"], t["note"]) for t in ties] == [(["src-t1", "src-t3"], "1990", "Signed in Foshan")]
    assert entity("tst-new-town")["sources"] == ["src-t1", "src-t3"]


def test_a_decision_naming_no_stored_entity_is_refused(curated_db, tmp_path):
    from kb.errors import InvalidRecord
    before = graph_counts()
    with pytest.raises(InvalidRecord, match="decisions.csv line 2, field 'decision'"):
        named(write(tmp_path, "t.yaml", PROPOSED),
              {(SOURCE, "tst-foshan"): Decision(SAME_AS, "city-nowhere", "decisions.csv line 2")})
    assert graph_counts() == before


def test_a_plain_seed_load_takes_its_ids_as_final(curated_db, tmp_path):
    report = pipeline.load(seed.reader([write(tmp_path, "t1.yaml", PROPOSED)]), show_progress=False)
    assert report.reconciliation == []
    assert entity("tst-foshan")["name"] == "Foshan"
