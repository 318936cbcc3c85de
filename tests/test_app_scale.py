"""The app at scale, on a generated graph: source titles looked up for what is shown only, the
Overview's citation counts, the read timeout's one sentence, and a hub's ties a page at a time."""
from __future__ import annotations

import collections
import csv
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner

from bench import synthetic
from kb import db, ddl, queries, types
from kb.cli import main
from kb.errors import ReadTimedOut
from kb.schema import schema
from loaders import csv as csv_loader
from loaders import pipeline
from tests.conftest import wipe
from tests.test_app import open_page, texts

pytestmark = pytest.mark.scale
ARRAY = types.LIST_SEPARATOR
# Long enough to outlast any timeout below whatever the machine's speed; the server stops it.
SLOW_QUERY = "UNWIND range(1, 2000000000) AS x RETURN count(x) AS n"
TIMEOUT_SENTENCE = "The database took more than 0.5 s to answer and the read was stopped"


@pytest.fixture(scope="module")
def generated(tmp_path_factory, neo4j_server):
    """2,000 entities and 8,000 ties (hubs of several hundred ties), loaded once for the module."""
    folder = tmp_path_factory.mktemp("scale")
    synthetic.generate(2000, 8000, 7, folder)
    wipe()
    ddl.init()
    pipeline.load(csv_loader.reader([folder]), show_progress=False)
    return folder


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def rows(folder: Path, pattern: str):
    for path in sorted(folder.glob(pattern)):
        with open(path, newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)


def cited(row: dict) -> list[str]:
    return [s for s in (row.get("sources:string[]") or "").split(ARRAY) if s]


def ties_of(folder: Path, entity_id: str) -> list[dict]:
    return [r for r in rows(folder, "relationships_*.csv") if entity_id in (r[":START_ID"], r[":END_ID"])]


def biggest_hub(folder: Path) -> tuple[str, int]:
    degree = collections.Counter()
    for r in rows(folder, "relationships_*.csv"):
        degree[r[":START_ID"]] += 1
        degree[r[":END_ID"]] += 1
    return degree.most_common(1)[0]


def test_source_lookup_returns_the_cited_sources_only(generated):
    sources = {r["id:ID"]: r for r in rows(generated, "nodes_Source.csv")}
    ties = ties_of(generated, "co-5")
    wanted = {s for tie in ties for s in cited(tie)}
    assert ties and 0 < len(wanted) < len(sources), "the entity cites some sources, not all"
    titles = queries.source_titles(wanted)
    assert set(titles) == wanted
    for sid, text in titles.items():
        source = sources[sid]
        assert text == f"{source['title']} ({source['publisher']}, {source['date:date']})", sid
    assert queries.source_titles([]) == {}
    assert queries.source_titles(["src-no-such-source"]) == {}


def test_a_drawn_neighbourhood_cites_exactly_the_sources_of_its_facts(generated):
    graph = queries.neighbourhood("co-5", depth=1)
    expected = {s for edge in graph.edges.values() for s in edge.sources}
    expected |= {s for node in graph.nodes.values() for s in node.properties.get("sources") or []}
    assert set(graph.source_ids()) == expected
    assert set(queries.source_titles(graph.source_ids())) == expected


def test_overview_counts_per_source_equal_the_loaded_files(generated):
    facts, entities = collections.Counter(), collections.Counter()
    for r in rows(generated, "relationships_*.csv"):
        facts.update(cited(r))
    for r in rows(generated, "nodes_*.csv"):
        entities.update(cited(r))
    found = queries.sources()
    assert len(found) == sum(1 for _ in rows(generated, "nodes_Source.csv"))
    assert {s["id"]: s["facts"] for s in found} == {s["id"]: facts[s["id"]] for s in found}
    assert {s["id"]: s["entities"] for s in found} == {s["id"]: entities[s["id"]] for s in found}
    ranks = [s["facts"] + s["entities"] for s in found]
    assert ranks == sorted(ranks, reverse=True), "most cited first"

    table = open_page("overview").dataframe[0].value
    assert dict(zip(table.id, table.facts)) == {sid: facts[sid] for sid in table.id}
    assert dict(zip(table.id, table.entities)) == {sid: entities[sid] for sid in table.id}


def test_a_read_past_the_timeout_is_stopped_by_the_server(generated, monkeypatch):
    monkeypatch.setenv("KB_READ_TIMEOUT", "0.5")
    with pytest.raises(ReadTimedOut, match=TIMEOUT_SENTENCE):
        db.read(SLOW_QUERY)
    # Stopped by the server, not given up by the client: the query no longer runs there.
    running = db.read("SHOW TRANSACTIONS YIELD currentQuery, status WHERE currentQuery = $q "
                      "AND NOT status STARTS WITH 'Terminated' RETURN status", q=SLOW_QUERY)
    assert running == [], running
    assert db.read("RETURN 1 AS one")[0]["one"] == 1, "the driver is usable afterwards"


def test_a_page_whose_read_times_out_says_so_in_one_sentence(generated, monkeypatch):
    monkeypatch.setenv("KB_READ_TIMEOUT", "0.5")
    monkeypatch.setattr(queries, "FACTS_PER_SOURCE_QUERY", SLOW_QUERY)
    at = open_page("overview")
    assert len(at.error) == 1 and TIMEOUT_SENTENCE in at.error[0].value, texts(at.error)
    assert "KB_READ_TIMEOUT" in at.error[0].value


def test_the_cli_reports_a_timed_out_read_in_one_line(generated, monkeypatch):
    monkeypatch.setenv("KB_READ_TIMEOUT", "0.5")
    monkeypatch.setattr(queries, "_counts_query", lambda template, names: SLOW_QUERY)
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and TIMEOUT_SENTENCE in lines[0], result.stderr


def test_a_hub_is_shown_a_page_at_a_time_with_a_notice(generated):
    hub, degree = biggest_hub(generated)
    size = queries.ENTITY_PAGE_SIZE
    assert degree > size, "the generated graph has a hub larger than one page"
    pages = -(-degree // size)
    at = open_page("entity", id=hub)
    notice = texts(at.info)
    assert f"Showing {size:,} of {degree:,} relations" in notice, notice
    seen = []
    for page in range(1, pages + 1):
        if page > 1:
            at.number_input(key=f"entity-page-{hub}").set_value(page).run()
            assert not at.exception, [e.value for e in at.exception]
        table = at.dataframe[1].value
        assert len(table) == (size if page < pages else degree - size * (pages - 1)), page
        # An absent date is an empty cell (or NaN from the table), an empty string in the file.
        seen += [(r.direction, r.relation, r.other, r.since if isinstance(r.since, str) and r.since else None)
                 for r in table.itertuples(index=False)]
    expected = collections.Counter()
    names = {r["id:ID"]: r["name"] for r in rows(generated, "nodes_*.csv")}
    for tie in ties_of(generated, hub):
        ends = (tie[":START_ID"], tie[":END_ID"])
        if schema().relation(tie[":TYPE"]).symmetric:
            ends = tuple(sorted(ends))      # stored once, with its ends in id order
        outgoing = ends[0] == hub
        other = ends[1] if outgoing else ends[0]
        expected[("out" if outgoing else "in", schema().relation_label(tie[":TYPE"]), names[other],
                  tie.get("since:date") or None)] += 1
    assert collections.Counter(seen) == expected, "every tie once over all pages"


def test_a_small_entity_has_no_pager(generated):
    at = open_page("entity", id="co-5")
    assert not at.info and not at.number_input
    assert len(at.dataframe[1].value) == len(ties_of(generated, "co-5"))
