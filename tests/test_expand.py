"""Expand in place: a double-click on a node of Explore's drawing adds its neighbours (from the core, with the
view's cap) and their ties to what was drawn before to the same drawing, nothing drawn before moves, the page
does not navigate and the legend gains the types they bring; "Undo expansion" removes them. Headless Chromium
against `streamlit run`, with every request to another host blocked."""
from __future__ import annotations

import math
import re

from kb import queries
from kb.render import graph as kb_graph
from kb.subgraph import union
from tests.test_browser import app_url, browser_page, graph_state  # noqa: F401 (fixtures)
from tests.test_click_through import graph_frame, node_on_page

CENTRE = "firm-kuka"
# A view where expanding a neighbour ties many added entities to those drawn (its firms share their partners).
CITY = "city-munich"
# A node cap no entity of the seeds reaches (a country has hundreds of neighbours).
EVERY_NEIGHBOUR = 100_000
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
# Run in the graph's frame: the ends of every drawn tie.
TIE_ENDS = "() => edges.get().map((edge) => [edge.from, edge.to])"
# Run in the app's page: the text of the legend under the drawing (null until it is shown).
LEGEND = """() => {
  for (const block of document.querySelectorAll('[data-testid="stMarkdown"]')) {
    if (block.innerText.startsWith('Legend')) return block.innerText;
  }
  return null;
}"""
# Run in the app's page: the legend's text once it differs from the text given (null until then).
LEGEND_CHANGED = f"""(before) => {{
  const now = ({LEGEND})();
  return now !== null && now !== before ? now : null;
}}"""


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


def ties_to_earlier(node: str, drawn: set, node_cap: int | None = None) -> dict:
    """The ties (element id -> ends) between what an expansion of node adds and the entities drawn before that
    are not among its neighbours: each added entity's own neighbourhood, read apart from the expansion's query."""
    neighbours = set(queries.neighbours(node, node_cap=node_cap)[0].nodes)
    earlier = drawn - neighbours
    return {edge.id: (edge.start, edge.end) for added in neighbours - drawn
            for edge in queries.neighbours(added, node_cap=EVERY_NEIGHBOUR)[0].edges.values()
            if added in (edge.start, edge.end) and {edge.start, edge.end} & earlier}


def legend_entries(graph) -> set:
    """The captions of the entity types and relations the legend lists for the graph."""
    shown = kb_graph.legend("en", graph)
    return set(shown.types) | set(shown.relations)


def listed(legend_text: str, caption: str) -> bool:
    """Whether the legend's text lists caption as an entry (a symbol and a non-breaking space before it)."""
    return re.search(f"\u00a0{re.escape(caption)}(?= |\n|$)", legend_text) is not None


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
    page.get_by_text(f"entities added: {len(added)}.").wait_for()

    page.get_by_role("button", name="Undo expansion").click()
    shown = set(page.wait_for_function(PAINTED, arg="", polling="raf").json_value())
    assert shown == drawn, "undo removes what the expansion added"
    assert frame.evaluate(POSITIONS) == before
    assert blocked == [], f"requests left loopback: {blocked}"


def test_an_expansion_draws_ties_to_what_was_drawn_and_its_types_in_the_legend(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(f"{app_url}/?id={CENTRE}")
    view = queries.neighbourhood(CENTRE)
    drawn = set(graph_state(page, CENTRE)["nodes"])
    # The drawn neighbour whose expansion both ties an added entity to an earlier-drawn one and brings a type
    # or relation the view's legend lacks.
    candidates = {node: (set(ties_to_earlier(node, drawn).values()),
                         legend_entries(union([view, queries.expansion(node, drawn).graph])) - legend_entries(view))
                  for node in sorted(drawn - {CENTRE})}
    chosen = [node for node, found in candidates.items() if all(found)]
    assert chosen, f"no neighbour of {CENTRE} in the seeds brings both a tie to an earlier entity and a legend entry"
    node, (ties, brought) = chosen[0], candidates[chosen[0]]
    frame = graph_frame(page, node)
    before = page.wait_for_function(LEGEND).json_value()
    assert not any(listed(before, caption) for caption in brought)
    assert not ties & {tuple(ends) for ends in frame.evaluate(TIE_ENDS)}

    page.mouse.dblclick(*node_on_page(page, node))
    page.wait_for_function(PAINTED, arg="expansion-1", polling="raf")
    assert ties <= {tuple(ends) for ends in frame.evaluate(TIE_ENDS)}, "ties to the entities drawn before are drawn"
    grown = page.wait_for_function(LEGEND_CHANGED, arg=before).json_value()
    assert all(listed(grown, caption) for caption in brought), f"the legend lists {brought}: {grown}"
    page.get_by_text(f"Ties to entities drawn before: {len(ties)}.").wait_for()

    page.get_by_role("button", name="Undo expansion").click()
    page.wait_for_function(PAINTED, arg="", polling="raf")
    assert not ties & {tuple(ends) for ends in frame.evaluate(TIE_ENDS)}, "undo removes the ties too"
    assert page.wait_for_function(LEGEND_CHANGED, arg=grown).json_value() == before, "undo takes them out of the legend"
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_capped_expansion_says_how_many_neighbours_it_left_out(seeded_db):
    everyone, left_out = queries.neighbours(CENTRE)
    assert left_out == 0
    cap = len(everyone.nodes) - 2
    capped, left_out = queries.neighbours(CENTRE, node_cap=cap)
    assert len(capped.nodes) == cap
    assert left_out == len(everyone.nodes) - len(capped.nodes)


def test_an_expansion_caps_its_ties_to_what_was_drawn_and_says_how_many_it_left_out(seeded_db):
    drawn = set(queries.neighbourhood(CITY).nodes)
    node = max(sorted(drawn - {CITY}), key=lambda n: len(ties_to_earlier(n, drawn)))
    everything = queries.expansion(node, drawn)
    assert everything.ties_to_drawn == len(ties_to_earlier(node, drawn)) > 1 and everything.ties_left_out == 0
    cap = everything.ties_to_drawn - 1
    capped = queries.expansion(node, drawn, node_cap=cap)
    expected = ties_to_earlier(node, drawn, node_cap=cap)
    assert capped.ties_to_drawn == min(cap, len(expected))
    assert capped.ties_to_drawn + capped.ties_left_out == len(expected)
    assert set(capped.graph.edges) & set(expected) and set(capped.graph.edges) <= set(everything.graph.edges) | set(expected)
