"""Facts added and ties retracted by hand: `kb fact add | retract | retracted` and `kb review export`,
against the real database with the seeds loaded; a rebuild from the seeds and the export gives the same graph."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from click.testing import CliRunner

from kb import db, queries
from kb.cli import main
from loaders import facts, pipeline, review, seed
from tests.conftest import SEEDS, graph_counts, wipe

NEW_FACT = ("PRODUCTION_BASE_IN", "firm-kuka", "city-foshan")
NEW_SOURCE = {"--source-url": "https://example.org/kuka-plant", "--source-title": "Kuka builds robots in Foshan",
              "--source-publisher": "Example News", "--read-date": "2024-03-01"}
SEED_TIE = ("OWNS", "firm-midea", "firm-kuka")
RETRACTED_BY = {"--reason": "The ACQUIRED tie states the ownership already", "--source": "src-reference"}


def run(*arguments, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def options(given: dict) -> list[str]:
    return [part for name, value in given.items() for part in (name, value)]


def tie(relation: str, start: str, end: str) -> dict | None:
    found = db.read(f"MATCH (:Entity {{id: $a}})-[r:{relation}]->(:Entity {{id: $b}}) RETURN properties(r) AS p",
                    a=start, b=end)
    return dict(found[0]["p"]) if found else None


def state() -> tuple:
    """Everything a refused command must leave as it was: node and relation counts, items, retractions."""
    return graph_counts(), review.items(state=None), facts.retracted()


def test_add_a_fact_citing_a_new_source(seeded_db):
    result = run("fact", "add", *NEW_FACT, *options(NEW_SOURCE), "--set", "since=2018", "--set", "status=active")
    assert "Added firm-kuka -[PRODUCTION_BASE_IN]-> city-foshan" in result.stdout, result.stdout
    written = tie(*NEW_FACT)
    source = facts.new_source(NEW_SOURCE["--source-url"], NEW_SOURCE["--source-title"],
                              NEW_SOURCE["--source-publisher"], NEW_SOURCE["--read-date"])
    assert (written["since"], written["status"], written["sources"]) == ("2018", "active", [source["id"]]), written
    stored = db.read("MATCH (s:Source {id: $id}) RETURN properties(s) AS p", id=source["id"])[0]["p"]
    assert {k: stored[k] for k in ("title", "url", "publisher", "accessed")} == \
        {"title": NEW_SOURCE["--source-title"], "url": NEW_SOURCE["--source-url"],
         "publisher": NEW_SOURCE["--source-publisher"], "accessed": NEW_SOURCE["--read-date"]}, stored
    added = review.items(state="added")
    assert [(i["type"], i["from"], i["to"]) for i in added] == [NEW_FACT], added
    listed = run("review", "list", "--state", "added").stdout
    assert added[0]["id"] in listed


def test_add_a_fact_citing_an_existing_source(seeded_db):
    before = queries.counts()["relations"]
    run("fact", "add", *NEW_FACT, "--source", "src-reference")
    assert tie(*NEW_FACT)["sources"] == ["src-reference"]
    assert queries.counts()["relations"] == {**before, NEW_FACT[0]: before.get(NEW_FACT[0], 0) + 1}


BAD_FACTS = [
    (["PRODUCTION_BASE_IN", "firm-atlantis", "city-foshan", "--source", "src-reference"], "firm-atlantis"),
    (["PRODUCTION_BASE_IN", "city-foshan", "firm-kuka", "--source", "src-reference"], "from"),
    (["SISTER_CITY_OF", "firm-kuka", "city-foshan", "--source", "src-reference"], "from"),
    (["OWNED_BY_MAGIC", "firm-kuka", "city-foshan", "--source", "src-reference"], "relation type"),
    (["PRODUCTION_BASE_IN", "firm-kuka", "city-foshan", "--source", "src-reference", "--set", "status=sold"], "status"),
    (["PRODUCTION_BASE_IN", "firm-kuka", "city-foshan", "--source", "src-reference", "--set", "colour=red"], "colour"),
    (["PRODUCTION_BASE_IN", "firm-kuka", "city-foshan", "--source", "src-nowhere"], "src-nowhere"),
    (["PRODUCTION_BASE_IN", "firm-kuka", "city-foshan", *options({**NEW_SOURCE, "--source-title": " "})], "title"),
    (["PRODUCTION_BASE_IN", "firm-kuka", "city-foshan", *options(NEW_SOURCE), "--source-kind", "rumour"], "kind"),
    (["PRODUCTION_BASE_IN", "firm-kuka", "city-foshan", *options(NEW_SOURCE), "--set", "since=yesterday"], "since"),
]


def assert_refused_in_one_line(command: str, arguments: list, field: str) -> None:
    """`kb fact COMMAND ...` exits 1 with one line naming the field, and the database is as it was."""
    before = state()
    result = run("fact", command, *arguments, ok=False)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], result.stderr
    assert state() == before


@pytest.mark.parametrize("arguments, field", BAD_FACTS, ids=[f"{a[0]}-{f}" for a, f in BAD_FACTS])
def test_a_bad_fact_is_one_line_and_writes_nothing(seeded_db, arguments, field):
    assert_refused_in_one_line("add", arguments, field)


def test_a_fact_needs_one_source(seeded_db):
    for given in ([], ["--source", "src-reference", "--source-url", NEW_SOURCE["--source-url"]]):
        result = run("fact", "add", *NEW_FACT, *given, ok=False)
        assert result.exit_code == 2 and "--source" in result.output, result.output


def test_retract_takes_the_tie_out_of_the_graph_and_keeps_it(seeded_db, tmp_path):
    had = tie(*SEED_TIE)
    counts = queries.counts()["relations"]
    expected = {**counts, SEED_TIE[0]: counts[SEED_TIE[0]] - 1}
    days = {dt.date.today().isoformat()}
    result = run("fact", "retract", *SEED_TIE, *options(RETRACTED_BY))
    days.add(dt.date.today().isoformat())  # the day it was retracted on, should midnight pass meanwhile
    assert "Retracted firm-midea -[OWNS]-> firm-kuka" in result.stdout, result.stdout
    assert tie(*SEED_TIE) is None
    assert queries.counts()["relations"] == {k: v for k, v in expected.items() if v}, "counts hide the retracted tie"
    drawn = queries.neighbourhood("firm-kuka", depth=1)
    assert not any(e.type == "OWNS" for e in drawn.edges.values()), "drawings hide it"
    run("export", "--format", "jsonl", "--out", tmp_path / "graph.jsonl")
    exported = [json.loads(line) for line in (tmp_path / "graph.jsonl").read_text(encoding="utf-8").splitlines()]
    assert SEED_TIE not in {(r.get("type"), r.get("start"), r.get("end")) for r in exported}, "exports hide it"
    [kept] = facts.retracted()
    assert (kept["type"], kept["from"], kept["to"], kept["tie"]) == (*SEED_TIE, had), kept
    assert (kept["reason"], kept["source"]) == (RETRACTED_BY["--reason"], RETRACTED_BY["--source"]) and kept["date"] in days
    listed = run("fact", "retracted").stdout
    assert RETRACTED_BY["--reason"] in listed and "firm-midea" in listed, listed
    assert json.loads(run("fact", "retracted", "--format", "json").stdout)[0]["tie"] == had


BAD_RETRACTIONS = [
    (["OWNS", "firm-kuka", "firm-midea", *options(RETRACTED_BY)], "no firm-kuka -[OWNS]-> firm-midea"),
    (["OWNS", "firm-midea", "firm-kuka", "--reason", "wrong", "--source", "src-nowhere"], "src-nowhere"),
    (["OWNS", "firm-midea", "firm-kuka", "--reason", " ", "--source", "src-reference"], "reason"),
    (["OWNED_BY_MAGIC", "firm-midea", "firm-kuka", *options(RETRACTED_BY)], "relation type"),
]


@pytest.mark.parametrize("arguments, field", BAD_RETRACTIONS, ids=[f for _, f in BAD_RETRACTIONS])
def test_a_bad_retraction_is_one_line_and_changes_nothing(seeded_db, arguments, field):
    assert_refused_in_one_line("retract", arguments, field)


def snapshot() -> tuple:
    everything = "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS a, type(r) AS t, b.id AS b, properties(r) AS p"
    entities = "MATCH (n:Entity) RETURN n.id AS id, properties(n) AS p"
    return (sorted(map(str, (r.data() for r in db.read(everything)))),
            sorted(map(str, (r.data() for r in db.read(entities)))), facts.retracted())


def test_seeds_and_the_export_rebuild_the_same_graph(seeded_db, tmp_path):
    run("fact", "add", *NEW_FACT, *options(NEW_SOURCE), "--set", "since=2018")
    run("fact", "retract", *SEED_TIE, *options(RETRACTED_BY))
    out = tmp_path / "by-hand.yaml"
    result = run("review", "export", "--out", out)
    assert "1 accepted ties" in result.stdout and "1 retracted ties" in result.stdout, result.stdout
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert [(r["type"], r["from"], r["to"]) for r in exported["retracted"]] == [SEED_TIE]
    graph = snapshot()
    wipe()
    run("load", SEEDS, out)
    assert snapshot() == graph
    run("load", SEEDS, out)
    assert snapshot() == graph, "loading the same files again changes nothing"


def test_a_bad_retraction_in_a_seed_file_names_the_field(empty_db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("retracted:\n  - {type: OWNS, from: a, to: b, reason: r, source: s, date: '2024-01-01', tie: {}}\n",
                   encoding="utf-8")
    with pytest.raises(Exception) as raised:
        pipeline.load(seed.reader([bad]), show_progress=False)
    assert "id" in str(raised.value) and "required in a retraction" in str(raised.value), raised.value
