"""Every page of the explorer through streamlit's AppTest, against the real database with the seeds."""
from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from kb import config, ddl
from kb.ops import server
from loaders import pipeline, seed
from kb.saved_queries import SAVED_QUERIES
from kb.schema import schema
from tests.conftest import graph_counts
from tests.test_graph import drawn
from tests.test_queries import seed_sources

APP = str(config.PROJECT_ROOT / "app.py")
PAGES = ("explore", "entity", "paths", "cypher", "overview")
INJECTION = '") DETACH DELETE n //'
# Generous: a cold database and the driver's retries on an unreachable server both take seconds.
TIMEOUT = 90


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached results would hide what the database says now (it is reloaded between tests)."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def open_page(page: str, **query_params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query_params)
    at.run()
    if page != "explore":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def drawn_graph(at: AppTest) -> str:
    frames = at.get("iframe")
    assert len(frames) == 1, "one graph expected"
    return frames[0].proto.srcdoc


def drawn_labels(at: AppTest) -> set[str]:
    return {node["label"] for node in drawn(drawn_graph(at), "nodes")}


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def search(at: AppTest, key: str, text: str) -> AppTest:
    at.text_input(key=f"{key}-text").input(text).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_search_finds_goettingen_from_gottingen(seeded_db):
    at = search(open_page("explore"), "explore", "Gottingen")
    hits = at.selectbox(key="explore-hit")
    assert hits.value.id == "city-goettingen", hits.options
    assert hits.options[0] == "Göttingen (City, DE)", "each hit shows its type and country"
    assert "Göttingen" in drawn_labels(at)
    assert at.query_params["id"] == "city-goettingen", "the chosen entity goes into the URL"


def test_search_without_its_index_is_a_warning(seeded_db):
    ddl.drop_search_index()
    try:
        at = search(open_page("explore"), "explore", "Gottingen")
        assert "Search is not available" in texts(at.warning) and "kb init" in texts(at.warning)
    finally:
        ddl.init()


def test_explore_foshan_depth_two_holds_midea_and_the_alliance(seeded_db):
    at = search(open_page("explore"), "explore", "Foshan")
    assert at.selectbox(key="explore-hit").value.id == "city-foshan"
    at.segmented_control(key="explore-depth").set_value(2).run()
    assert {"Foshan", "Midea", "Sino-German Industrial City Alliance", "Kuka"} <= drawn_labels(at)
    facts = at.dataframe[0].value
    assert list(facts.columns) == ["subject", "relation", "object", "since", "until", "sources", "note"]
    assert ((facts.subject == "Midea") & (facts.relation == "acquired") & (facts.object == "Kuka")).any()
    assert "Legend" in texts(at.markdown) and "China" in texts(at.markdown)
    assert [b.label for b in at.get("download_button")] == [
        "Download this graph (HTML, works offline)", "Facts as CSV", "Subgraph as JSON"]
    assert not at.info, "no cap note when nothing was cut"


def test_deep_link_and_node_cap_note(seeded_db):
    at = open_page("explore", id="city-foshan")
    at.segmented_control(key="explore-depth").set_value(2)
    at.number_input(key="explore-cap").set_value(5).run()
    assert "Showing the first 5 entities" in texts(at.info)
    assert len(drawn_labels(at)) == 5


def test_filters_keep_only_chosen_types(seeded_db):
    at = open_page("explore", id="city-foshan")
    at.multiselect(key="explore-types").set_value(["Company"]).run()
    others = [n for n in drawn(drawn_graph(at), "nodes") if n["id"] != "city-foshan"]
    assert {n["label"] for n in others} >= {"Midea", "FAW-Volkswagen"}
    assert {n["color"]["background"] for n in others} == {schema().color("Company")}
    at.multiselect(key="explore-types").set_value([])
    at.multiselect(key="explore-relations").set_value(["MEMBER_OF"]).run()
    assert set(at.dataframe[0].value.relation) == {"member of"}


def test_text_typed_in_is_data_not_cypher(seeded_db):
    before = graph_counts()
    at = search(open_page("explore"), "explore", INJECTION)
    assert "Nothing found" in texts(at.info)
    at = open_page("cypher", q="MATCH (c:City {id: $city}) RETURN c.name AS name", city=INJECTION)
    assert at.dataframe[0].value.empty
    assert graph_counts() == before


def test_entity_page(seeded_db):
    at = open_page("entity", id="firm-kuka")
    assert at.header[0].value == "Kuka"
    assert "KUKA" in texts(at.markdown), "aliases shown"
    properties = at.dataframe[0].value
    assert dict(zip(properties.property, properties.value))["sector"] == "industrial robots"
    relations = at.dataframe[1].value
    acquired = relations[relations.relation == "acquired"].iloc[0]
    assert (acquired.direction, acquired.other, acquired.since, acquired.until) == ("in", "Midea", "2016", "2017")
    assert "src-" not in acquired.sources, "sources are shown by title"
    assert "The takeover ran" in acquired.note
    timeline = texts(at.markdown)
    assert "**2016** · Midea acquired Kuka (from)" in timeline and "**2017** · Midea acquired Kuka (until)" in timeline
    assert [link.label for link in at.get("page_link")] == ["Explore the neighbourhood of Kuka"]


def test_entity_unknown_id_is_a_warning(seeded_db):
    at = open_page("entity", id="no-such-thing")
    assert "No entity has the id 'no-such-thing'" in texts(at.warning)


def test_path_goettingen_to_midea(seeded_db):
    at = open_page("paths")
    search(at, "path-from", "Goettingen")
    search(at, "path-to", "美的")
    assert (at.query_params["from"], at.query_params["to"]) == ("city-goettingen", "firm-midea")
    paths = [m.value for m in at.markdown if m.value.startswith("**Path ")]
    assert paths and all(p.split("** ")[1].startswith("Göttingen →") and p.endswith("→ Midea") for p in paths), paths
    hops = at.dataframe[0].value
    assert len(hops) == len(paths[0].split("→")) - 1 and hops.sources.str.len().min() > 0
    assert "Midea" in drawn_labels(at)


def test_paths_deep_link(seeded_db):
    at = open_page("paths", **{"from": "city-goettingen", "to": "firm-midea"})
    assert "shortest path(s)" in at.subheader[0].value
    linked = [c.value for c in at.caption if c.value.startswith("From the link:")]
    assert linked == ["From the link: Göttingen (City, DE). Type to choose another.",
                      "From the link: Midea (Company, CN). Type to choose another."], linked


def test_cypher_refuses_a_write(seeded_db):
    before = graph_counts()
    at = open_page("cypher", q="MATCH (n) DETACH DELETE n")
    message = texts(at.error)
    assert "only read-only queries may run here" in message and "Nothing was run" in message, message
    assert graph_counts() == before


@pytest.mark.parametrize("saved", SAVED_QUERIES, ids=lambda s: s.name)
def test_every_saved_query_returns_rows_and_its_link_reproduces_them(seeded_db, saved):
    at = open_page("cypher")
    at.selectbox(key="cypher-saved").set_value(saved).run()
    assert at.text_area(key="cypher-text").value == saved.cypher
    at.button[0].click().run()
    assert not at.exception and not at.error, texts(at.error)
    rows = at.dataframe[0].value
    assert len(rows) > 0, saved.name
    link = dict(at.query_params.items())
    assert link == {"q": saved.cypher, **saved.param_texts()}
    again = open_page("cypher", **link)
    assert again.dataframe[0].value.equals(rows), "the copied link gives the same result"


def test_cypher_graph_result(seeded_db):
    at = open_page("cypher", q="MATCH (c:City {id: $city})-[r]-(x) RETURN c, r, x", city="city-foshan")
    assert "Midea" in drawn_labels(at)
    assert [b.label for b in at.get("download_button")][:2] == ["Rows as CSV", "Rows as JSON"]


def test_overview(seeded_db):
    at = open_page("overview")
    assert [s.value for s in at.subheader] == ["Entities by type", "Relations by type", "Sources", "Documents",
                                               "Dated facts per year"]
    sources = at.dataframe[0].value
    expected = seed_sources()
    assert set(sources.id) == set(expected) and sources.facts.sum() > 0
    links = {sid: source["url"] for sid, source in expected.items() if source.get("url")}
    assert links and {sid: url for sid, url in zip(sources.id, sources.url) if sid in links} == links
    assert len(at.get("vega_lite_chart")) == 3


def test_overview_shows_a_load_at_once(seeded_db, tmp_path):
    at = open_page("overview")
    before = set(at.dataframe[0].value.id)
    assert "src-late" not in before
    # Same process, cache kept (keyed by the graph version, not expired by time).
    at.run()
    assert set(at.dataframe[0].value.id) == before
    late = tmp_path / "late.yaml"
    late.write_text("entities:\n"
                    "  - {id: src-late, type: Source, name: Late source, title: Late source, kind: dataset}\n"
                    "  - {id: city-late, type: City, name: Late, sources: [src-late]}\n"
                    "relations:\n"
                    "  - {from: city-late, type: LOCATED_IN, to: country-de, sources: [src-late]}\n",
                    encoding="utf-8")
    pipeline.load(seed.reader([late]), show_progress=False)
    at.run()
    sources = at.dataframe[0].value
    assert set(sources.id) == before | {"src-late"}, "the load shows without waiting for a cache to expire"
    late_row = sources[sources.id == "src-late"].iloc[0]
    assert (int(late_row.facts), int(late_row.entities)) == (1, 1)


def test_presentation_mode_lives_in_the_url(seeded_db):
    at = open_page("explore", id="firm-kuka", present="1")
    assert at.toggle(key="presentation").value is True
    assert '"size": 26' in drawn_graph(at), "larger labels"
    at.toggle(key="presentation").set_value(False).run()
    assert "present" not in at.query_params
    assert '"size": 14' in drawn_graph(at)
    at.toggle(key="presentation").set_value(True).run()
    assert at.query_params["present"] == "1"


@pytest.mark.restarts
def test_database_stopped_every_page_says_so_then_recovers(seeded_db):
    pages = {"explore": {"id": "city-foshan"}, "entity": {"id": "firm-kuka"},
             "paths": {"from": "city-goettingen", "to": "firm-midea"}, "cypher": {"q": "RETURN 1 AS one"},
             "overview": {}}
    apps = {}
    server.stop()
    try:
        for page, params in pages.items():
            apps[page] = at = open_page(page, **params)
            message = texts(at.error)
            assert "is not reachable" in message and "kb server start" in message, (page, message)
            assert len(at.error) == 1, page
    finally:
        server.start(echo=lambda message: None)
    for page, at in apps.items():
        at.run()
        assert not at.exception and not at.error, (page, texts(at.error))
