"""Expand in place: a double-click on a node of Explore's drawing adds its neighbours (from the core, with the
view's cap) to the same drawing, nothing drawn before moves and the page does not navigate; "Undo expansion"
removes them. Headless Chromium against `streamlit run`, with every request to another host blocked."""
from __future__ import annotations

import math

from kb import queries
from tests.test_browser import app_url, browser_page, graph_state  # noqa: F401 (fixtures)
from tests.test_click_through import graph_frame, node_on_page

CENTRE = "firm-kuka"
# Run in the graph's frame: every node's position in the network's coordinates.
POSITIONS = "() => network.getPositions()"
# Run in the app's page: the graph frame's node ids once the given expansions are painted (null until then).
PAINTED = """(keys) => {
  for (const frame of document.querySelectorAll('iframe')) {
    const win = frame.contentWindow;
    if (win && win.network && win.kbExpansionsPainted === keys) return win.network.body.data.nodes.getIds();
  }
  return null;
}"""


def around(centre: dict, placed: list) -> bool:
    """Whether the placed positions surround centre: their middle is nearer to it than half their mean distance."""
    middle = [sum(p[axis] for p in placed) / len(placed) for axis in ("x", "y")]
    mean = sum(math.dist((p["x"], p["y"]), (centre["x"], centre["y"])) for p in placed) / len(placed)
    return math.dist(middle, (centre["x"], centre["y"])) < mean / 2


def widest_neighbour(drawn: set) -> tuple[str, set]:
    """The drawn neighbour of the centre whose expansion adds the most entities not yet drawn, and those."""
    added = {node: set(queries.neighbours(node)[0].nodes) - drawn for node in sorted(drawn - {CENTRE})}
    node = max(added, key=lambda n: len(added[n]))
    return node, added[node]


def test_a_double_click_adds_the_neighbours_in_place_and_undo_removes_them(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(f"{app_url}/?id={CENTRE}")
    drawn = set(graph_state(page, CENTRE)["nodes"])
    assert drawn == set(queries.neighbourhood(CENTRE).nodes)
    node, added = widest_neighbour(drawn)
    assert added, f"the seeds give no neighbour of {CENTRE} anything new to add"
    frame = graph_frame(page, node)
    frame.evaluate("() => { window.kbSameDocument = true; }")
    before = frame.evaluate(POSITIONS)
    url, history = page.url, page.evaluate("() => history.length")

    page.mouse.dblclick(*node_on_page(page, node))
    shown = set(page.wait_for_function(PAINTED, arg="expansion-1", polling="raf").json_value())
    assert shown == drawn | added, "the double-clicked node's neighbours, and nothing else, are added"
    after = frame.evaluate(POSITIONS)
    assert {n: after[n] for n in drawn} == {n: before[n] for n in drawn}, "nothing drawn before may move"
    assert around(after[node], [after[n] for n in added]), "the new neighbours are placed around the node"
    assert frame.evaluate("() => window.kbSameDocument") is True, "the drawing must not be reloaded"
    assert (page.url, page.evaluate("() => history.length")) == (url, history), "a double-click must not navigate"
    page.get_by_text(f"{len(added)} entities added").wait_for()

    page.get_by_role("button", name="Undo expansion").click()
    shown = set(page.wait_for_function(PAINTED, arg="", polling="raf").json_value())
    assert shown == drawn, "undo removes what the expansion added"
    assert frame.evaluate(POSITIONS) == before
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_capped_expansion_says_how_many_neighbours_it_left_out(seeded_db):
    everyone, left_out = queries.neighbours(CENTRE)
    assert left_out == 0
    cap = len(everyone.nodes) - 2
    capped, left_out = queries.neighbours(CENTRE, node_cap=cap)
    assert len(capped.nodes) == cap
    assert left_out == len(everyone.nodes) - len(capped.nodes)
