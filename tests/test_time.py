"""Ties through time: the year control of Explore, Paths and Overview, the change view, the Entity page's
timeline chart and `kb query NAME --year`, each checked against what the seed files say was in force.

Every expected set is derived from seeds/**/*.yaml here, with the rule written out independently of the
Cypher (tests/conftest.py tie_in_force): begun by the year, not ended before it, not a plan or a failed
deal; a tie without `since` is undated, kept unless undated ties are hidden."""
from __future__ import annotations

import json
from collections import Counter, deque

import pyarrow
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from kb import queries
from kb.cli import main
from kb.render import graph
from kb.schema import schema
from tests.conftest import seed_entities, seed_ties, tie_in_force
from tests.test_app import fresh_cache, open_page  # noqa: F401 (fresh_cache: an autouse fixture)
from tests.test_graph import drawn

FOSHAN = "city-foshan"
EARLY, LATE = 2015, 2019


def year(value) -> int | None:
    text = str(value or "")[:4]
    return int(text) if text.isdigit() else None


in_force = tie_in_force


def key(tie) -> tuple:
    """A tie as a drawing shows it: its ends and its relation's label (labels are unique, tests/test_schema.py)."""
    return tie["from"], schema().relation_label(tie["type"]), tie["to"]


def expected_neighbourhood(centre: str, when: int | None, undated: bool = True) -> set[tuple]:
    """Depth 1 as Explore draws it: the centre, the ends of its ties in force, and the ties in force among them."""
    ties = [t for t in seed_ties() if in_force(t, when, undated)]
    nodes = {centre} | {end for t in ties if centre in (t["from"], t["to"]) for end in (t["from"], t["to"])}
    return {key(t) for t in ties if t["from"] in nodes and t["to"] in nodes}


def dated(keys: set[tuple]) -> set[tuple]:
    by_key = {key(t): t for t in seed_ties()}
    return {k for k in keys if year(by_key[k].get("since")) is not None}


def drawn_edges(at: AppTest) -> list[dict]:
    frames = at.get("iframe")
    assert len(frames) == 1, "one graph expected"
    return drawn(frames[0].proto.srcdoc, "edges")


def drawn_ties(at: AppTest) -> set[tuple]:
    # kbLabel: the label, also when a crowded drawing shows it on hover only.
    return {(e["from"], e["kbLabel"], e["to"]) for e in drawn_edges(at)}


def test_the_seeds_make_2015_and_2019_differ_for_foshan():
    early, late = expected_neighbourhood(FOSHAN, EARLY), expected_neighbourhood(FOSHAN, LATE)
    assert early < late, (sorted(early), sorted(late))


def test_foshan_as_of_2015_shows_fewer_ties_than_as_of_2019(seeded_db):
    seen = {}
    for when in (EARLY, LATE):
        at = open_page("explore", id=FOSHAN, year=str(when))
        seen[when] = drawn_ties(at)
        assert seen[when] == expected_neighbourhood(FOSHAN, when), when
        assert at.toggle(key="explore-as-of").value is True and at.number_input(key="explore-year").value == when
        assert at.query_params["year"] == str(when), "the year stays in the URL"
        assert f"ties in force in {when}" in " ".join(c.value for c in at.caption)
    assert len(seen[EARLY]) < len(seen[LATE])
    assert drawn_ties(open_page("explore", id=FOSHAN)) == expected_neighbourhood(FOSHAN, None), "no year: every tie"


def test_undated_ties_are_dashed_and_can_be_hidden(seeded_db):
    at = open_page("explore", id=FOSHAN, year=str(LATE))
    edges = drawn_edges(at)
    undated = {(e["from"], e["kbLabel"], e["to"]) for e in edges if e.get("dashes") == graph.UNDATED_DOTS}
    all_ties = drawn_ties(at)
    assert undated and undated == all_ties - dated(all_ties), "exactly the undated ties are dotted"
    assert "dotted = undated tie" in " ".join(m.value for m in at.markdown), "the legend says so"
    at.toggle(key="explore-hide-undated").set_value(True).run()
    assert at.query_params["undated"] == "hide"
    assert drawn_ties(at) == expected_neighbourhood(FOSHAN, LATE, undated=False)
    assert not any(e.get("dashes") == graph.UNDATED_DOTS for e in drawn_edges(at))
    linked = open_page("explore", id=FOSHAN, year=str(LATE), undated="hide")
    assert drawn_ties(linked) == expected_neighbourhood(FOSHAN, LATE, undated=False), "the link reproduces it"
    at.toggle(key="explore-as-of").set_value(False).run()
    assert "year" not in at.query_params and "undated" not in at.query_params
    assert drawn_ties(at) == expected_neighbourhood(FOSHAN, None)


def names() -> dict:
    return {entity["id"]: entity["name"] for entity in seed_entities()}


def test_change_view_lists_the_difference(seeded_db):
    at = open_page("changes", id=FOSHAN, **{"from": str(EARLY), "to": str(LATE)})
    rows = at.dataframe[0].value
    listed = {(r.change, r.subject, r.relation, r.object) for r in rows.itertuples()}
    assert len(listed) == len(rows), "each change once"
    assert rows.sources.str.len().min() > 0 and not rows.sources.str.contains("src-").any(), "sources by title"
    around = expected_neighbourhood(FOSHAN, None)
    by_key = {key(t): t for t in seed_ties()}
    began = {k for k in around if year(by_key[k].get("since")) and EARLY < year(by_key[k]["since"]) <= LATE}
    ended = {k for k in around if year(by_key[k].get("until")) and EARLY <= year(by_key[k]["until"]) < LATE}
    label = names()
    expected = {(change, label[a], relation, label[b]) for change, keys in (("began", began), ("ended", ended))
                for a, relation, b in keys}
    assert listed == expected
    # The difference between the two years' views: what began, what ended, and undated ties only
    # drawn because their ends came into view (they are no change).
    early, late = expected_neighbourhood(FOSHAN, EARLY), expected_neighbourhood(FOSHAN, LATE)
    assert began and dated(late - early) == began and dated(early - late) == ended
    assert drawn_ties(at) == began | ended
    assert at.query_params["from"] == str(EARLY) and at.query_params["to"] == str(LATE)


def test_change_view_refuses_a_backward_range(seeded_db):
    at = open_page("changes", id=FOSHAN, **{"from": str(LATE), "to": str(EARLY)})
    assert "must come before" in " ".join(w.value for w in at.warning)


def shortest_hops(start: str, end: str, when: int | None, undated: bool = True) -> int | None:
    """Breadth-first search over the seed ties in force, direction ignored."""
    around = {}
    for tie in seed_ties():
        if in_force(tie, when, undated):
            around.setdefault(tie["from"], set()).add(tie["to"])
            around.setdefault(tie["to"], set()).add(tie["from"])
    hops, queue = {start: 0}, deque([start])
    while queue:
        here = queue.popleft()
        for there in around.get(here, ()):
            if there not in hops:
                hops[there] = hops[here] + 1
                queue.append(there)
    found = hops.get(end)
    return found if found is not None and found <= queries.MAX_PATH_HOPS else None


@pytest.mark.parametrize("when, undated", [(None, True), (EARLY, True), (LATE, True), (EARLY, False)])
def test_paths_as_of_a_year(seeded_readonly, when, undated):
    paths = queries.shortest_paths(FOSHAN, "org-sgica", year=when, undated=undated)
    expected = shortest_hops(FOSHAN, "org-sgica", when, undated)
    assert {len(p.edges) for p in paths} == ({expected} if expected else set()), (when, undated)
    by_key = {key(t): t for t in seed_ties()}
    for path in paths:
        assert all(in_force(by_key[key({"from": e.start, "type": e.type, "to": e.end})], when, undated)
                   for e in path.edges)


def test_paths_page_keeps_the_year(seeded_db):
    at = open_page("paths", **{"from": FOSHAN, "to": "org-sgica", "year": str(EARLY)})
    expected = shortest_hops(FOSHAN, "org-sgica", EARLY)
    assert f"of {expected} hop(s)" in at.subheader[0].value
    assert at.query_params["year"] == str(EARLY)


def test_overview_counts_ties_in_force(seeded_db):
    expected = Counter(t["type"] for t in seed_ties() if in_force(t, EARLY, undated=False))
    assert queries.ties_in_force(EARLY, undated=False) == dict(expected)
    at = open_page("overview", year=str(EARLY), undated="hide")
    assert f"Relations in force in {EARLY} by type" in [s.value for s in at.subheader]


def chart_rows(chart) -> list[dict]:
    """The rows a Streamlit chart was given (its dataset travels as Arrow)."""
    data = chart.proto.datasets[0].data.data
    return pyarrow.ipc.open_stream(data).read_all().to_pylist()


def test_entity_timeline_is_a_chart_of_ties_begun_and_ended(seeded_db):
    at = open_page("entity", id="firm-kuka")
    expected = Counter()
    for tie in seed_ties():
        if "firm-kuka" in (tie["from"], tie["to"]):
            for field, change in (("since", "began"), ("until", "ended")):
                if year(tie.get(field)):
                    expected[str(year(tie[field])), change] += 1
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    rows = chart_rows(charts[0])
    counts = {tuple(str(v) for v in row.values() if isinstance(v, str)): row for row in rows}
    assert len(rows) == len(expected), rows
    for (when, change), n in expected.items():
        assert n in [v for v in counts[(when, change)].values() if isinstance(v, int)], (when, change, rows)


def kb(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("when, undated", [(EARLY, "show"), (LATE, "show"), (LATE, "hide")])
def test_kb_query_city_ties_by_year(seeded_readonly, when, undated):
    result = kb("query", "city-ties", "--param", f"city={FOSHAN}", "--year", when, "--undated", undated,
                "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    label = names()
    expected = Counter((t["type"], label[t["to"] if t["from"] == FOSHAN else t["from"]]) for t in seed_ties()
                       if FOSHAN in (t["from"], t["to"]) and in_force(t, when, undated == "show"))
    assert Counter((r["tie"], r["other"]) for r in rows) == expected


def test_kb_query_year_only_for_saved_queries_that_take_one(seeded_readonly):
    everything = json.loads(kb("query", "city-ties", "--format", "json").output)
    assert len(everything) == sum(FOSHAN in (t["from"], t["to"]) for t in seed_ties()), "no year: every tie"
    refused = kb("query", "who-met-whom", "--year", LATE)
    assert refused.exit_code == 2 and "city-ties" in refused.output, refused.output
    assert kb("query", "MATCH (n) RETURN n LIMIT 1", "--year", LATE).exit_code == 2
    assert kb("query", "city-ties", "--undated", "hide").exit_code == 2, "hiding undated ties needs a year"
