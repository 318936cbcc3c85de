"""Click through the drawn graph: a click on a node opens Explore of it, keeping the view's options, and
the back button returns; a drag moves the node and opens nothing; a page alone (a download) has no links.
Headless Chromium against `streamlit run`, with every request to another host blocked."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from kb.render import graph
from tests.test_browser import graph_state
from tests.test_graph import sample

# Run in a graph's frame: where the node is drawn, in the frame's own pixels (vis-network's canvas
# coordinates turned into the canvas element's, plus the canvas's place in the frame).
NODE_IN_FRAME = """(id) => {
  const at = network.canvasToDOM(network.getPositions([id])[id]);
  const box = document.querySelector('#kb-graph canvas').getBoundingClientRect();
  return {x: box.left + at.x, y: box.top + at.y};
}"""
SETTLED_WITH = "(id) => window.kbGraphSettled === true && window.network.body.data.nodes.getIds().includes(id)"


def graph_frame(page, wanted: str):
    """The frame of the drawn graph holding wanted (once graph_state has seen it drawn)."""
    for frame in page.frames:
        if frame != page.main_frame and frame.evaluate("() => !!window.network") \
                and frame.evaluate(SETTLED_WITH, wanted):
            return frame
    raise AssertionError(f"no drawn graph holds {wanted}")


def node_on_page(page, node: str) -> tuple[float, float]:
    """Where the node is drawn, in the page's viewport (the graph's frame scrolled into view first)."""
    frame = graph_frame(page, node)
    element = frame.frame_element()
    element.scroll_into_view_if_needed()
    inside = frame.evaluate(NODE_IN_FRAME, node)
    box = element.bounding_box()
    return box["x"] + inside["x"], box["y"] + inside["y"]


def query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def centre_heading(page, name: str):
    """Explore's subheading of the entity the page is centred on ("Kuka · 9 entities, ...")."""
    return page.get_by_role("heading", name=re.compile(rf"^{re.escape(name)} · \d+ entities"))


def test_a_click_recentres_explore_keeping_the_options_and_back_returns(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    started = time.monotonic()
    page.goto(f"{app_url}/?id=firm-kuka&depth=2&cap=140&year=2019&present=1")
    centre_heading(page, "Kuka").wait_for()
    assert "firm-midea" in graph_state(page, "firm-kuka")["nodes"]
    print(f"Kuka's graph opened by its link: drawn {time.monotonic() - started:.2f} s after going there")
    first = page.url

    started = time.monotonic()
    page.mouse.click(*node_on_page(page, "firm-midea"))
    page.wait_for_url(re.compile(r"[?&]id=firm-midea(&|$)"))
    centre_heading(page, "Midea").wait_for()
    assert "firm-kuka" in graph_state(page, "firm-midea")["nodes"]
    print(f"clicked Midea in Kuka's graph: Midea's graph drawn {time.monotonic() - started:.2f} s later")
    assert urlsplit(page.url).path == urlsplit(first).path, "the click must stay on Explore"
    assert query(page.url) == {**query(first), "id": ["firm-midea"]}, "every option but the id must be kept"
    # Still in presentation mode: graph-first, its switches folded with the search into one panel.
    assert page.get_by_text("Search, depth, filters and year").is_visible()

    started = time.monotonic()
    page.go_back()
    page.wait_for_url(re.compile(r"[?&]id=firm-kuka(&|$)"))
    centre_heading(page, "Kuka").wait_for()
    assert "firm-midea" in graph_state(page, "firm-kuka")["nodes"]
    print(f"back: Kuka's graph drawn {time.monotonic() - started:.2f} s after going back")
    assert query(page.url) == query(first)
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_click_on_the_centre_stays(seeded_db, app_url, browser_page):
    page, _ = browser_page
    page.goto(f"{app_url}/?id=firm-kuka")
    graph_state(page, "firm-kuka")
    history = page.evaluate("() => history.length")
    page.mouse.click(*node_on_page(page, "firm-kuka"))
    time.sleep(2)  # long enough for a navigation to have begun
    assert page.evaluate("() => history.length") == history and query(page.url)["id"] == ["firm-kuka"]


def test_dragging_a_node_moves_it_and_opens_nothing(seeded_db, app_url, browser_page):
    page, _ = browser_page
    page.goto(f"{app_url}/?id=firm-kuka")
    graph_state(page, "firm-midea")
    before = page.url
    x, y = node_on_page(page, "firm-midea")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 90, y + 60, steps=12)
    page.mouse.up()
    time.sleep(2)  # long enough for a navigation to have begun
    assert page.url == before, "a drag must not navigate"
    moved_x, moved_y = node_on_page(page, "firm-midea")
    assert abs(moved_x - (x + 90)) < 15 and abs(moved_y - (y + 60)) < 15, "the drag must have moved the node"


def test_a_click_in_the_paths_graph_opens_explore_of_that_node(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(f"{app_url}/paths?from=city-goettingen&to=firm-midea&year=2019&present=1")
    page.get_by_text("shortest path(s)").wait_for()
    graph_state(page, "city-goettingen")
    page.mouse.click(*node_on_page(page, "city-goettingen"))
    page.wait_for_url(re.compile(r"[?&]id=city-goettingen(&|$)"))
    centre_heading(page, "Göttingen").wait_for()
    assert urlsplit(page.url).path.rstrip("/") == urlsplit(app_url).path.rstrip("/"), "Explore is the app's root"
    assert query(page.url) == {"id": ["city-goettingen"], "year": ["2019"], "present": ["1"]}, \
        "presentation mode and the year come along, the path's ends do not"
    page.go_back()
    page.get_by_text("shortest path(s)").wait_for()
    assert query(page.url)["from"] == ["city-goettingen"]
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_page_alone_has_no_links_and_a_click_there_opens_nothing(chromium, tmp_path):
    alone = graph.to_html(sample())
    linked = graph.drawing(sample()).page(extras=(graph.node_link_script("./?depth=2&id="),))
    assert "kbSameView" not in alone and linked.count("kbSameView(link") == 1
    script = graph.NODE_LINK_SCRIPT.replace("__NODE_LINK__", '"./?depth=2&id="').replace("__WAIT__", "0")
    assert linked.replace(script + "\n", "") == alone
    file = tmp_path / "graph.html"
    file.write_text(alone, encoding="utf-8")
    page = chromium.new_page()
    try:
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        page.goto(file.as_uri())
        page.wait_for_function(SETTLED_WITH, arg="firm-kuka")
        history = page.evaluate("() => history.length")
        at = page.evaluate(NODE_IN_FRAME, "firm-kuka")
        page.mouse.click(at["x"], at["y"])
        time.sleep(1)
        assert page.url == file.as_uri() and page.evaluate("() => history.length") == history
    finally:
        page.close()


@pytest.mark.parametrize("link", ['./?q=</script><script>alert(1)</script>&id=', './?q="quoted"&id='])
def test_a_link_cannot_break_out_of_the_script(link):
    page = graph.drawing(sample()).page(extras=(graph.node_link_script(link),))
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == graph.to_html(sample()).count("</script>") + 1
