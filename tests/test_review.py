"""The review queue: `kb extract --queue`, `kb review list | show | accept | reject | export`, against the
real database with the seeds loaded; review items are no entities (not counted, searched, drawn or exported)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from click.testing import CliRunner

from kb import db, queries
from kb.cli import main
from kb.search import search
from loaders import extract, pipeline, review, seed
from tests import articles
from tests.conftest import SEEDS, graph_counts, wipe

PLANTS = articles.ARTICLES / "plants-en.md"


def run(*arguments, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def queued() -> dict:
    """(type, from, to) -> item of every review item."""
    return {(i["type"], i["from"], i["to"]): i for i in review.items(state=None)}


@pytest.fixture
def queue(seeded_db):
    run("extract", PLANTS, "--queue")
    return queued()


def tie(start: str, relation: str, end: str) -> dict | None:
    found = db.read(f"MATCH (:Entity {{id: $a}})-[r:{relation}]->(:Entity {{id: $b}}) RETURN properties(r) AS p",
                    a=start, b=end)
    return dict(found[0]["p"]) if found else None


def test_extract_queue_keeps_candidates_as_review_items(queue):
    expected = {(c.type, c.start, c.end) for c in extract.Extractor().article(PLANTS)[2]}
    assert set(queue) == expected and expected, (set(queue), expected)
    listed = run("review", "list").stdout
    for item in queue.values():
        assert item["id"] in listed and item["state"] == "pending"
    item = queue[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    shown = run("review", "show", item["id"]).stdout
    assert "opened another plant in Shenyang" in shown and "since=2022" in shown and "cue:" in shown, shown
    assert "in the graph already" in shown and "src-open-" in shown, shown


def test_review_items_are_not_counted_searched_drawn_or_exported(seeded_db, tmp_path):
    before = queries.counts(), graph_counts()[1]
    hits_before = [h.id for h in search("Kessler Antriebstechnik")]
    run("extract", PLANTS, "--queue")
    assert len(review.items()) > 5
    assert queries.counts() == before[0], "kb stats counts review items"
    assert json.loads(run("stats", "--format", "json").stdout)["entities"] == before[0]["entities"]
    assert graph_counts()[1] == before[1], "review items have no relationships"
    assert [h.id for h in search("Kessler Antriebstechnik")] == hits_before
    from kb.schema import schema
    hits = search("Shenyang plant") + search("BMW Brilliance") + search("Kessler")
    assert hits and all(h.type in schema().entities and not h.id.startswith("rev-") for h in hits), hits
    drawn = queries.neighbourhood("city-shenyang", depth=2)
    assert all(node.type in ("City", "Company", "Country", "Region", "Organization", "Person", "Event", "Document")
               for node in drawn.nodes.values()), [n.type for n in drawn.nodes.values()]
    run("export", "--format", "jsonl", "--out", tmp_path / "graph.jsonl")
    assert "ReviewItem" not in (tmp_path / "graph.jsonl").read_text(encoding="utf-8")
    assert "rev-" not in (tmp_path / "graph.jsonl").read_text(encoding="utf-8")


def test_accept_writes_the_tie_through_the_load_path_citing_the_document(queue):
    item = queue[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    days = {dt.date.today().isoformat()}
    result = run("review", "accept", item["id"])
    days.add(dt.date.today().isoformat())  # the day it was accepted on, should midnight pass meanwhile
    assert "Accepted" in result.stdout, result.stdout
    article = extract.read(PLANTS)
    # The seeds hold the tie already: the document joins its sources.
    written = tie("firm-bba", "PRODUCTION_BASE_IN", "city-shenyang")
    assert written["sources"][-1] == article.source_id and len(written["sources"]) > 1, written
    assert written["since"] == "2022", written
    source = db.read("MATCH (s:Source {id: $id}) RETURN s.accessed AS accessed, s.title AS title", id=article.source_id)
    assert source[0]["accessed"] in days and source[0]["title"] == article.meta["title"], source
    assert review.get(item["id"])["state"] == "accepted" and review.get(item["id"])["reviewed"] in days


def test_accept_with_edits_and_a_new_entity_reconciled(queue):
    item = queue[("PRODUCTION_BASE_IN", "firm-kessler-antriebstechnik-gmbh", "city-taicang")]
    run("review", "accept", item["id"], "--set", "since=2023-05", "--set", "note=Its first plant abroad.")
    written = tie("firm-kessler-antriebstechnik-gmbh", "PRODUCTION_BASE_IN", "city-taicang")
    assert (written["since"], written["note"]) == ("2023-05", "Its first plant abroad."), written
    entity = db.read("MATCH (c:Company {id: 'firm-kessler-antriebstechnik-gmbh'}) RETURN c.name AS name")
    assert entity[0]["name"] == "Kessler Antriebstechnik GmbH"
    # The same new firm proposed by another document is matched on its name, not created twice.
    other = articles.ARTICLES.parent / "kessler.md"
    try:
        other.write_text("---\ntitle: Kessler expands\nlanguage: en\n---\nKessler Antriebstechnik GmbH opened a "
                         "plant in Wuxi in 2024.\n", encoding="utf-8")
        run("extract", other, "--queue")
        second = queued()[("PRODUCTION_BASE_IN", "firm-kessler-antriebstechnik-gmbh", "city-wuxi")]
        run("review", "accept", second["id"])
    finally:
        other.unlink()
    assert db.read("MATCH (c:Company) WHERE c.name = 'Kessler Antriebstechnik GmbH' RETURN count(c) AS n")[0]["n"] == 1
    assert tie("firm-kessler-antriebstechnik-gmbh", "PRODUCTION_BASE_IN", "city-wuxi")["since"] == "2024"


def test_judged_ties_are_not_proposed_again(queue):
    accepted = queue[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    rejected = queue[("PRODUCTION_BASE_IN", "firm-zf", "city-shenyang")]
    run("review", "accept", accepted["id"])
    result = run("review", "reject", rejected["id"], "--reason", "ZF builds transmissions there for others")
    assert "Rejected" in result.stdout
    assert review.get(rejected["id"])["reason"] == "ZF builds transmissions there for others"
    again = json.loads(run("extract", PLANTS, "--format", "json").stdout)
    ties = {(r["type"], r["from"], r["to"]) for r in again}
    assert ("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang") not in ties
    assert ("PRODUCTION_BASE_IN", "firm-zf", "city-shenyang") not in ties
    assert len(ties) == len(queue) - 2
    run("extract", PLANTS, "--queue")
    assert review.get(rejected["id"])["state"] == "rejected" and review.get(accepted["id"])["state"] == "accepted"
    assert len(review.items(state=None)) == len(queue)
    listed = run("review", "list", "--state", "rejected").stdout
    assert rejected["id"] in listed and accepted["id"] not in listed


@pytest.mark.parametrize("command", [["show"], ["accept"], ["reject", "--reason", "no"]], ids=lambda c: c[0])
def test_an_unknown_review_id_is_one_line_and_changes_nothing(queue, command):
    before = graph_counts(), queued()
    result = run("review", command[0], "rev-000000000000", *command[1:], ok=False)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rev-000000000000" in lines[0] and "no such item" in lines[0], result.stderr
    assert (graph_counts(), queued()) == before


BAD_EDITS = [
    (["--set", "share=abc"], "share"),
    (["--set", "status=sold"], "status"),
    (["--set", "colour=red"], "colour"),
    (["--set", "to=city-atlantis"], "city-atlantis"),
    (["--set", "type=SISTER_CITY_OF"], "SISTER_CITY_OF"),
]


@pytest.mark.parametrize("edits, field", BAD_EDITS, ids=[f for _, f in BAD_EDITS])
def test_an_accept_that_fails_validation_is_one_line_and_writes_nothing(queue, edits, field):
    item = queue[("PARENT_OF", "firm-vw", "firm-vw-anhui")]
    before = graph_counts(), queued()
    result = run("review", "accept", item["id"], *edits, ok=False)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and item["id"] in lines[0] and field in lines[0] and "nothing written" in lines[0], \
        result.stderr
    assert (graph_counts(), queued()) == before
    assert review.get(item["id"])["state"] == "pending"


def test_a_judged_item_cannot_be_judged_again(queue):
    item = queue[("PARENT_OF", "firm-vw", "firm-vw-anhui")]
    run("review", "reject", item["id"])
    result = run("review", "accept", item["id"], ok=False)
    assert result.exit_code == 1 and "already rejected" in result.stderr, result.output


def test_export_gives_a_seed_file_that_rebuilds_the_same_ties(queue, tmp_path):
    picks = [("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang"),
             ("PRODUCTION_BASE_IN", "firm-kessler-antriebstechnik-gmbh", "city-taicang"),
             ("PARENT_OF", "firm-vw", "firm-vw-anhui")]
    for key in picks:
        run("review", "accept", queue[key]["id"])
    run("review", "reject", queue[("PRODUCTION_BASE_IN", "firm-zf", "city-shenyang")]["id"])
    out = tmp_path / "accepted.yaml"
    assert "Exported 3 accepted ties" in run("review", "export", "--out", out).stdout
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert len(exported["relations"]) == 3
    everything = "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS a, type(r) AS t, b.id AS b, properties(r) AS p"
    entities = "MATCH (n:Entity) RETURN n.id AS id, properties(n) AS p"
    graph = (sorted(map(str, (r.data() for r in db.read(everything)))), sorted(map(str, (r.data() for r in db.read(entities)))))
    wipe()
    pipeline.load(seed.reader([SEEDS, out]), show_progress=False)
    rebuilt = (sorted(map(str, (r.data() for r in db.read(everything)))), sorted(map(str, (r.data() for r in db.read(entities)))))
    assert rebuilt == graph


def test_export_needs_a_yaml_file(queue, tmp_path):
    result = run("review", "export", "--out", tmp_path / "accepted.json", ok=False)
    assert result.exit_code == 2 and ".yaml" in result.output


def test_review_page_groups_by_document_marks_the_names_and_judges_in_one_click(queue):
    from tests.test_app import open_page
    at = open_page("review")
    assert any("German carmakers and suppliers keep building in China" in s.value for s in at.subheader), \
        [s.value for s in at.subheader]
    accepted = queue[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    rejected = queue[("PRODUCTION_BASE_IN", "firm-zf", "city-shenyang")]
    assert any("<mark>Shenyang</mark>" in m.value and "<mark>BMW Brilliance Automotive</mark>" in m.value
               for m in at.markdown), "the evidence with both names marked"
    at.button(key=f"accept-{accepted['id']}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key=f"reject-{rejected['id']}").click().run()
    assert (review.get(accepted["id"])["state"], review.get(rejected["id"])["state"]) == ("accepted", "rejected")
    assert tie("firm-bba", "PRODUCTION_BASE_IN", "city-shenyang")["sources"][-1] == extract.read(PLANTS).source_id


def test_review_page_edits_before_accepting_and_shows_a_refused_edit(queue):
    from tests.test_app import open_page
    item = queue[("PARENT_OF", "firm-vw", "firm-vw-anhui")]
    at = open_page("review")
    at.text_input(key=f"{item['id']}-share").input("lots").run()
    at.button(key=f"accept-edited-{item['id']}").click().run()
    assert any("share" in e.value and "nothing written" in e.value for e in at.error), [e.value for e in at.error]
    assert review.get(item["id"])["state"] == "pending"
    at.text_input(key=f"{item['id']}-share").input("0.75").run()
    at.button(key=f"accept-edited-{item['id']}").click().run()
    assert review.get(item["id"])["state"] == "accepted"
    assert tie("firm-vw", "PARENT_OF", "firm-vw-anhui")["share"] == 0.75


def test_a_new_version_of_an_article_replaces_its_pending_candidates(seeded_db, tmp_path):
    """Same URL, new text: the candidates the new text no longer states leave the queue; a judged one stays."""
    text = PLANTS.read_text(encoding="utf-8").replace("---\n", "---\nurl: https://example.org/plants\n", 1)
    first, second = tmp_path / "v1" / "plants.md", tmp_path / "v2" / "plants.md"
    for path in (first, second):
        path.parent.mkdir()
    first.write_text(text, encoding="utf-8")
    suppliers = next(line for line in text.splitlines() if "ZF Friedrichshafen" in line)
    new_text = text.replace(suppliers, "Suppliers are following.")
    second.write_text(new_text, encoding="utf-8")
    run("extract", first, "--queue")
    before = queued()
    accepted = before[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    run("review", "accept", accepted["id"])
    dropped = {tie for tie, item in before.items() if item["sentence"] not in new_text}
    assert ("PRODUCTION_BASE_IN", "firm-zf", "city-shenyang") in dropped, dropped
    run("extract", second, "--queue")
    after = queued()
    assert set(after) == set(before) - dropped, (set(before) - set(after), dropped)
    assert after[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]["state"] == "accepted"
    assert {item["document"] for item in after.values()} == {accepted["document"]}
