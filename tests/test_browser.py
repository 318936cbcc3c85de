"""End to end in headless Chromium against `streamlit run app.py` on loopback, with every request
to another host blocked and recorded."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api

from kb import config
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LOOPBACK, WAIT_MS, only_loopback  # noqa: F401 (imported from here)

pytestmark = pytest.mark.browser

SCREENSHOTS = config.PROJECT_ROOT / "test-output"

# Run in the app's page: the graph iframe (same origin, srcdoc) whose vis network holds the wanted node,
# has settled, and whose canvas holds painted pixels (a blank iframe has none). Null until then.
DRAWN_GRAPH = """(wanted) => {
  for (const frame of document.querySelectorAll('iframe')) {
    const win = frame.contentWindow;
    if (!win || !win.network || win.kbGraphSettled !== true) continue;
    const ids = win.network.body.data.nodes.getIds();
    if (!ids.includes(wanted)) continue;
    const canvas = win.document.querySelector('#kb-graph canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
    if (painted === 0) continue;
    return {nodes: ids, painted: painted, fontSize: win.network.body.nodes[wanted].options.font.size};
  }
  return null;
}"""


# Modules that import these two fixtures from here get the run's shared app and browser page (they
# live in conftest); an import of conftest's own functions would start a second app per module.
@pytest.fixture
def app_url(app_url):
    return app_url


@pytest.fixture
def browser_page(browser_page):
    return browser_page


def graph_state(page, wanted: str) -> dict:
    """Wait until a graph holding wanted is drawn and settled; returns its nodes, painted pixels, font size."""
    return page.wait_for_function(DRAWN_GRAPH, arg=wanted, polling=100).json_value()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def search_and_choose(page, text: str, label: str) -> None:
    box = page.get_by_label("Search an entity", exact=True)
    box.fill(text)
    box.press("Enter")
    matches = page.get_by_label("Search an entity: matches")
    matches.wait_for()
    matches.click()
    page.get_by_role("option", name=label).click()


def test_search_kuka_deep_links_presentation_and_nothing_leaves_loopback(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(app_url)
    search_and_choose(page, "Kuka", "Kuka (Company, DE)")
    state = graph_state(page, "firm-kuka")
    assert {"firm-kuka", "firm-midea", "city-augsburg"} <= set(state["nodes"]), state
    assert state["painted"] > 1000, "the canvas must show the drawn nodes"
    assert "id=firm-kuka" in page.url
    print("screenshot:", shot(page, "explore-kuka"))

    page.goto(f"{app_url}/entity?id=firm-midea")
    page.get_by_role("heading", name="Midea").wait_for()
    page.get_by_text("Relations").wait_for()
    print("screenshot:", shot(page, "entity-midea-deep-link"))

    page.goto(f"{app_url}/paths?from=city-goettingen&to=firm-midea")
    page.get_by_text("shortest path(s)").wait_for()
    assert "city-goettingen" in graph_state(page, "firm-midea")["nodes"]
    print("screenshot:", shot(page, "paths-goettingen-midea-deep-link"))

    page.goto(f"{app_url}/?id=firm-kuka")
    normal = graph_state(page, "firm-kuka")
    page.get_by_text("Presentation mode").click()
    page.wait_for_url("**present=1**")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSidebar\"]')")
    # The rerun replaces the graph's iframe after a while that grows with the machine's load: wait
    # for the larger labels (a timeout here fails the test) rather than for a fixed time.
    larger = f"(arg) => {{ const s = ({DRAWN_GRAPH})(arg.wanted); return s && s.fontSize > arg.size ? s : null; }}"
    page.wait_for_function(larger, arg={"wanted": "firm-kuka", "size": normal["fontSize"]}, polling=100)
    print("screenshot:", shot(page, "presentation-kuka"))

    assert blocked == [], f"requests left loopback: {blocked}"


def test_time_from_choosing_foshan_depth_two_to_graph_drawn(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(app_url)
    page.get_by_text("Depth, filters and node cap").click()
    page.locator("[data-testid='stButtonGroup'] button", has_text="2").click()
    box = page.get_by_label("Search an entity", exact=True)
    box.fill("Foshan")
    started = time.monotonic()
    box.press("Enter")  # the best hit, Foshan, is chosen at once
    state = graph_state(page, "firm-midea")
    elapsed = time.monotonic() - started
    assert {"city-foshan", "org-sgica"} <= set(state["nodes"])
    print(f"Foshan, depth 2: {len(state['nodes'])} nodes drawn {elapsed:.2f} s after choosing it")
    print("screenshot:", shot(page, "explore-foshan-depth-2"))
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_healthy_start_prints_no_warning(seeded_readonly, app_url, browser_page):
    """What `make demo` shows on a healthy start: Streamlit's own lines, no warning (such as the
    static folder's absence before the app first writes vis-network there)."""
    page, blocked = browser_page
    page.goto(f"{app_url}/?id=firm-kuka")
    page.get_by_text("Kuka").first.wait_for()
    logged = (config.home() / "streamlit.log").read_text(encoding="utf-8", errors="replace")
    warnings = [line for line in logged.splitlines() if "warn" in line.lower() or "static folder" in line.lower()]
    assert warnings == [], warnings


# Run in a drawn graph's frame: is each of these characters drawn with a glyph of its own? With no CJK font
# Chromium draws every one as the same empty box ("tofu") or not at all, so pairwise-different, non-blank
# bitmaps mean the font is there. And the pixels inside a node's label box on the network's canvas: text drawn.
GLYPHS_AND_LABEL = """(arg) => {
  const frame = [...document.querySelectorAll('iframe')].find(f => f.contentWindow && f.contentWindow.network
      && f.contentWindow.network.body.data.nodes.get(arg.id));
  const win = frame.contentWindow, doc = win.document;
  const node = win.network.body.nodes[arg.id];
  const font = node.options.font.size + 'px ' + node.options.font.face;
  const bitmaps = arg.chars.map(ch => {
    const c = doc.createElement('canvas'); c.width = 64; c.height = 64;
    const g = c.getContext('2d'); g.font = font; g.fillStyle = '#000'; g.fillText(ch, 4, 44);
    return Array.from(g.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3)).join(',');
  });
  const canvas = doc.querySelector('#kb-graph canvas');
  const box = node.labelModule.size;   // canvas coordinates of the label
  const ratio = canvas.width / canvas.clientWidth;
  const topLeft = win.network.canvasToDOM({x: box.left, y: box.top});
  const bottomRight = win.network.canvasToDOM({x: box.left + box.width, y: box.top + box.height});
  const w = Math.max(1, Math.round((bottomRight.x - topLeft.x) * ratio)), h = Math.max(1, Math.round((bottomRight.y - topLeft.y) * ratio));
  const pixels = canvas.getContext('2d').getImageData(Math.round(topLeft.x * ratio), Math.round(topLeft.y * ratio), w, h).data;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) { if (pixels[i + 3] > 0 && pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) dark++; }
  return {label: node.options.label, distinct: new Set(bitmaps).size, blank: bitmaps.filter(b => !/[1-9]/.test(b)).length,
          dark: dark, area: w * h, frameTop: frame.getBoundingClientRect().top};
}"""


def test_chinese_names_are_drawn_with_a_cjk_font(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.goto(f"{app_url}/?id=city-foshan&lang=zh")
    graph_state(page, "firm-midea")
    page.get_by_role("heading", name="探索").wait_for()
    found = page.evaluate(GLYPHS_AND_LABEL, {"id": "firm-midea", "chars": ["美", "的", "佛", "山", "汉", "诺"]})
    print("screenshot:", shot(page, "explore-foshan-zh"))
    assert found["label"] == "美的", found
    assert found["blank"] == 0 and found["distinct"] == 6, f"Chinese characters drawn as boxes or not at all: {found}"
    assert found["dark"] > 0.03 * found["area"], f"the label's box on the canvas holds no text: {found}"
    labels = page.evaluate("""() => { const f = [...document.querySelectorAll('iframe')].find(f => f.contentWindow.network);
        return f.contentWindow.network.body.data.edges.get().map(e => e.kbLabel); }""")
    assert "总部位于" in labels, labels
    assert "lang=zh" in page.url
    assert blocked == [], f"requests left loopback: {blocked}"


def test_presentation_mode_starts_with_the_graph(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?id=firm-kuka&present=1")
    graph_state(page, "firm-kuka")
    frame_top = """() => [...document.querySelectorAll('iframe')].find(f => f.contentWindow.network)
                         .getBoundingClientRect().top"""
    # The graph can be drawn before the page's run has finished laying out what stands above it.
    try:
        page.wait_for_function(f"({frame_top})() <= 100", polling=100, timeout=10_000)
    except playwright_api.TimeoutError:
        pass
    top = page.evaluate(frame_top)
    print(f"presentation mode at 1400x1000: the graph's frame starts {top:.0f} px down")
    print("screenshot:", shot(page, "presentation-kuka-graph-first"))
    assert top <= 100, f"the graph starts {top:.0f} px down, below the window's top 10%"
    panel = page.get_by_text("Search, depth, filters and year")
    assert panel.is_visible()
    assert not page.get_by_label("Search an entity", exact=True).is_visible(), "the panel starts folded"
    panel.click()
    page.get_by_label("Search an entity", exact=True).wait_for()
    assert page.get_by_text("Presentation mode").is_visible(), "the switches are in the panel"
    assert blocked == [], f"requests left loopback: {blocked}"
