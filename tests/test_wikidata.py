"""Wikidata SPARQL JSON results (loaders/wikidata.py) loaded and reconciled against the curated
seeds in the real database, through pipeline.load and the `kb load wikidata` command."""
import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import db
from kb.cli import main
from kb.errors import InvalidRecord
from loaders import pipeline, seed, wikidata
from tests.conftest import graph_counts
from tests.test_reconcile import TWINS, curated_db, entity, write  # noqa: F401 (curated_db: a fixture)

DATA = Path(__file__).parent / "data" / "wikidata"
RESULTS = DATA / "sister-cities.json"
LATER = DATA / "sister-cities-later.json"
RETRIEVED = "2026-11-30"
# The seed cities the fixture names, by their Q-number in it.
SEED_CITIES = {"Q45519": "city-foshan", "Q1715": "city-hanover", "Q1074183": "city-taicang"}


def load(path=RESULTS, **options):
    options.setdefault("query", "sister-cities")
    return pipeline.load(wikidata.reader([path], retrieved=RETRIEVED, **options), show_progress=False)


def kb(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def items_and_ties(path):
    """The items (Q-numbers) and the distinct city pairs the results file names."""
    bindings = json.loads(path.read_text(encoding="utf-8"))["results"]["bindings"]
    qid = lambda term: term["value"].rsplit("/", 1)[1]  # noqa: E731
    ties = {(qid(b["cn"]), qid(b["de"])) for b in bindings}
    return {q for tie in ties for q in tie}, ties


def city_for(qid):
    return db.read("MATCH (c:City {wikidata_id: $q}) RETURN c.id AS id", q=qid)


def tie(a, b):
    return db.read("MATCH (:City {id: $a})-[r:SISTER_CITY_OF]-(:City {id: $b}) RETURN properties(r) AS p", a=a, b=b)


def snapshot():
    return sorted(str(r["row"]) for r in db.read(
        "MATCH (n) OPTIONAL MATCH (n)-[r]->(m) RETURN [n.id, properties(n), type(r), m.id, properties(r)] AS row"))


def test_a_results_file_adds_q_numbers_to_seed_cities_and_creates_the_others(curated_db):
    items, ties = items_and_ties(RESULTS)
    nodes, relations = graph_counts()
    foshan_sources = entity("city-foshan")["sources"]
    report = load()
    for qid, seed_id in SEED_CITIES.items():
        assert [r["id"] for r in city_for(qid)] == [seed_id], qid
        assert entity(f"wd-{qid}") is None
    created = items - set(SEED_CITIES)
    for qid in created:
        assert [r["id"] for r in city_for(qid)] == [f"wd-{qid}"], qid
    assert graph_counts() == (nodes + len(created) + 1, relations + len(ties))   # + 1: the file's Source
    outcomes = {o.proposed_id: (o.outcome, o.matched_on) for o in report.reconciliation}
    assert outcomes == {**{f"wd-{q}": ("matched", "name") for q in SEED_CITIES},
                        **{f"wd-{q}": ("created", "") for q in created}}

    source = db.read("MATCH (s:Source) WHERE s.id STARTS WITH 'src-wikidata-sister-cities-' "
                     "RETURN properties(s) AS p")
    assert len(source) == 1
    source = source[0]["p"]
    assert source["query"] == (wikidata.QUERIES / "sister-cities.rq").read_text(encoding="utf-8")
    assert source["accessed"] == RETRIEVED and source["kind"] == "dataset"
    assert all(source["id"] in entity(f"wd-{q}")["sources"] for q in created)
    assert entity("city-foshan")["sources"] == [*foshan_sources, source["id"]]   # the file's source added last

    # Labels: the English one names a new city, the others are aliases; a seed city keeps its name.
    foshan = entity("city-foshan")
    assert foshan["name"] == "Foshan" and {"佛山", "佛山市"} <= set(foshan["aliases"])
    hefei = entity("wd-Q185684")
    assert (hefei["name"], hefei["aliases"], hefei["country"]) == ("Hefei", ["合肥市"], "CN")
    assert entity("wd-Q490465")["name"] == "Wertheim"        # a German label only
    # Dates at the precision Wikidata gives: year, month, day.
    assert tie("city-foshan", "city-hanover")[0]["p"]["since"] == "2005"
    assert tie("wd-Q185684", "wd-Q3920")[0]["p"]["since"] == "1988-05"
    wertheim = tie("city-taicang", "wd-Q490465")[0]["p"]
    assert (wertheim["since"], wertheim["until"]) == ("1998", "2010-06-15")
    assert "until" not in tie("city-foshan", "city-hanover")[0]["p"]


def test_loading_the_file_twice_changes_nothing(curated_db):
    load()
    before, counts = snapshot(), graph_counts()
    report = load()
    assert {o.matched_on for o in report.reconciliation} == {"id", "wikidata_id"}
    assert graph_counts() == counts and snapshot() == before


def test_the_query_is_found_by_the_files_variables(curated_db):
    load(query=None)
    assert city_for("Q1715")[0]["id"] == "city-hanover"


def test_a_tie_stated_by_two_results_files_cites_both(curated_db):
    load(RESULTS)
    load(LATER)
    sources = [r["id"] for r in db.read("MATCH (s:Source) WHERE s.id STARTS WITH 'src-wikidata-' "
                                        "RETURN s.id AS id ORDER BY s.accessed, s.id")]
    assert len(sources) == 2
    assert sorted(tie("city-foshan", "city-hanover")[0]["p"]["sources"]) == sorted(sources)
    _, later_ties = items_and_ties(LATER)
    assert len(later_ties) == 1
    assert len(tie("wd-Q185684", "wd-Q3920")[0]["p"]["sources"]) == 1


def read_report(path):
    with path.open(encoding="utf-8", newline="") as lines:
        return list(csv.DictReader(lines))


def test_an_ambiguous_city_is_reported_then_decided_and_the_decision_kept(curated_db, tmp_path):
    pipeline.load(seed.reader([write(tmp_path, "twins.yaml", TWINS)]), show_progress=False)
    report_file, decisions_file = tmp_path / "report.csv", tmp_path / "decisions.csv"
    before = graph_counts()
    result = kb("load", "wikidata", RESULTS, "--query", "sister-cities", "--retrieved", RETRIEVED,
                "--report", report_file)
    assert result.exit_code == 0, result.output
    assert "1 ambiguous (not written)" in result.output, result.output
    rows = {row["proposed_id"]: row for row in read_report(report_file)}
    neustadt = rows["wd-Q7932"]
    assert (neustadt["outcome"], neustadt["candidates"], neustadt["id"]) == \
        ("ambiguous", "city-neustadt-a;city-neustadt-b", "")
    assert rows["wd-Q45519"]["matched_on"] == "name" and rows["wd-Q45519"]["id"] == "city-foshan"
    assert [row["reason"] for row in rows.values() if row["outcome"] == "not written"] == \
        ["touches the ambiguous record wd-Q7932"]
    assert city_for("Q7932") == [] and tie("city-taicang", "city-neustadt-a") == []
    items, ties = items_and_ties(RESULTS)
    created = items - set(SEED_CITIES) - {"Q7932"}
    assert graph_counts() == (before[0] + len(created) + 1, before[1] + len(ties) - 1)

    neustadt["decision"] = "same-as city-neustadt-b"
    with decisions_file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, list(neustadt))
        writer.writeheader()
        writer.writerows(rows.values())
    result = kb("load", "wikidata", RESULTS, "--query", "sister-cities", "--retrieved", RETRIEVED,
                "--decisions", decisions_file, "--report", tmp_path / "second.json")
    assert result.exit_code == 0, result.output
    second = {row["proposed_id"]: row for row in json.loads((tmp_path / "second.json").read_text(encoding="utf-8"))}
    assert (second["wd-Q7932"]["outcome"], second["wd-Q7932"]["id"], second["wd-Q7932"]["matched_on"]) == \
        ("matched", "city-neustadt-b", "decision")
    assert [r["id"] for r in city_for("Q7932")] == ["city-neustadt-b"]
    assert len(tie("city-taicang", "city-neustadt-b")) == 1
    decided = graph_counts()
    assert decided == (before[0] + len(created) + 1, before[1] + len(ties))

    result = kb("load", "wikidata", RESULTS, "--query", "sister-cities", "--retrieved", RETRIEVED,
                "--report", tmp_path / "third.csv")
    assert result.exit_code == 0, result.output
    third = {row["proposed_id"]: row for row in read_report(tmp_path / "third.csv")}
    assert (third["wd-Q7932"]["outcome"], third["wd-Q7932"]["id"]) == ("matched", "city-neustadt-b")
    assert graph_counts() == decided


@pytest.mark.parametrize("decision, message", [
    ("same as city-neustadt-b", "is neither 'same-as <id>' nor 'new'"),
    ("same-as city-nowhere", "names no stored entity"),
])
def test_a_bad_decision_is_refused_with_file_line_and_field(curated_db, tmp_path, decision, message):
    decisions_file = tmp_path / "decisions.csv"
    decisions_file.write_text(f"source,proposed_id,decision\nwikidata,wd-Q7932,{decision}\n", encoding="utf-8")
    before = graph_counts()
    result = CliRunner().invoke(main, ["load", "wikidata", str(RESULTS), "--query", "sister-cities",
                                       "--decisions", str(decisions_file)])
    assert result.exit_code == 1
    assert f"{decisions_file} line 2, field 'decision'" in result.output and message in result.output, result.output
    assert graph_counts() == before


def mutated(tmp_path, change):
    document = json.loads(RESULTS.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _set(binding, variable, term):
    def change(document):
        document["results"]["bindings"][binding - 1][variable] = term
    return change


MALFORMED = {
    "item not a URI": (_set(3, "de", {"type": "literal", "value": "Osnabrück"}), "binding 3", "'de'",
                       "not a Wikidata item"),
    "URI not an item": (_set(2, "cn", {"type": "uri", "value": "http://example.org/thing/45519"}), "binding 2",
                        "'cn'", "not a Wikidata item"),
    "date not a dateTime": (_set(3, "start", {"type": "literal", "value": "May 1988"}), "binding 3", "'start'",
                            "not an xsd:dateTime"),
    "impossible date": (_set(4, "end", {"type": "literal", "value": "+2010-02-30T00:00:00Z"}), "binding 4",
                        "'until'", "not a date"),
    "term without type": (_set(1, "cn_en", {"value": "Foshan"}), "binding 1", "'cn_en'", "not an RDF term"),
    "variable missing": (lambda d: d["head"]["vars"].remove("de_zh"), "", "'head.vars'", "de_zh"),
    "no bindings": (lambda d: d.pop("results"), "", "", "results.bindings"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_results_file_is_refused_with_file_record_and_field(curated_db, tmp_path, case):
    change, record, field, message = MALFORMED[case]
    path = mutated(tmp_path, change)
    before = snapshot()
    with pytest.raises(InvalidRecord) as refused:
        load(path)
    problem = str(refused.value)
    assert str(path) in problem and record in problem and field in problem and message in problem, problem
    assert snapshot() == before


def test_a_file_that_is_not_json_and_an_unknown_query_are_refused(curated_db, tmp_path):
    before = graph_counts()
    broken = tmp_path / "broken.json"
    broken.write_text('{"head": {"vars": [', encoding="utf-8")
    with pytest.raises(InvalidRecord, match="not a SPARQL JSON results file"):
        load(broken)
    result = kb("load", "wikidata", RESULTS, "--query", "twin-towns")
    assert result.exit_code == 1 and "unknown query 'twin-towns'" in result.output, result.output
    assert graph_counts() == before


def test_every_shipped_query_has_a_mapping_of_schema_types():
    from kb.schema import schema
    found = wikidata.queries()
    assert {"sister-cities", "headquarters", "owned-by", "parent-organization", "subsidiary", "country",
            "located-in", "member-of"} <= set(found)
    for query in found.values():
        for var, spec in query.mapping["entities"].items():
            assert f"?{var}" in query.text and schema().entity(spec["type"]), (query.name, var)
        for relation in query.mapping["relations"]:
            relation_type = schema().relation(relation["type"])
            ends = [query.mapping["entities"][relation[end]]["type"] for end in ("from", "to")]
            assert ends[0] in relation_type.sources and ends[1] in relation_type.targets, query.name
        assert all(f"?{var}" in query.text for var in query.variables), query.name


@pytest.mark.parametrize("args, message", [
    (["load", "seeds/places.yaml", "--report", "report.csv"], "--report and --decisions are for named sources"),
    (["load", "seeds/places.yaml", "--query", "sister-cities"], "--query is for a named source"),
])
def test_options_of_named_sources_are_refused_for_seed_files(args, message):
    from kb.config import PROJECT_ROOT
    result = CliRunner().invoke(main, [str(PROJECT_ROOT / a) if a.startswith("seeds/") else a for a in args])
    assert result.exit_code == 2 and message in result.output, result.output


def walk(reader):
    """A whole JSON document rebuilt through the streaming reader's objects, arrays and values."""
    following = reader.peek()
    if following == "{":
        reader.pos += 1
        return {key: walk(reader) for key in reader.members()}
    if following == "[":
        reader.pos += 1
        return [walk(reader) for _ in reader.elements()]
    return reader.value()


STREAMED = [RESULTS.read_text(encoding="utf-8"), '{"a": [1, 22, 333, -4.5e10, true, null, "x\\"y"], "b": {}}',
            '[ {"汉诺威": "佛山"} , [] ,\n 12345678901234567890 ]', "  7  "]


@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("text", STREAMED, ids=["results", "values", "unicode", "number"])
def test_the_streaming_reader_gives_what_json_loads_gives_whatever_the_chunks(text, chunk):
    import io
    from loaders import jsonstream
    reader = jsonstream.Reader(io.StringIO(text), chunk=chunk)
    assert walk(reader) == json.loads(text)
    reader.end()


BROKEN = ['{"head": {"vars": [', '{"a": 1,\n "b": tru}', '{"a": 1\n\n  "b": 2}', '[1, 2,, 3]', '{"a": "x}\n',
          '{"a": 1} {"b": 2}']


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
@pytest.mark.parametrize("text", BROKEN)
def test_the_streaming_reader_says_where_the_json_breaks(text, chunk):
    import io
    from loaders import jsonstream
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(jsonstream.Malformed) as found:
        reader = jsonstream.Reader(io.StringIO(text), chunk=chunk)
        walk(reader)
        reader.end()
    assert str(found.value).startswith(f"line {expected.value.lineno} column {expected.value.colno}:"), \
        (str(found.value), str(expected.value))
