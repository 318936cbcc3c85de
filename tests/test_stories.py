"""Stories: the file format and its errors, the shipped story on the seeds, `kb story`, the Story page
played with the arrow keys in headless Chromium, the exported file played from disk with the network
blocked, and "Add this view to a story" writing a step that then plays."""
from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from kb import config
from kb.render import stories
from kb.cli import main
from kb.errors import StoryError
from tests.test_app import APP, TIMEOUT, fresh_cache, open_page  # noqa: F401 (an autouse fixture)
from tests.test_browser import SCREENSHOTS, WAIT_MS

SHIPPED = config.PROJECT_ROOT / "stories"
GOOD_STEP = {"title": "Foshan", "note": "A city.", "kind": "explore", "id": "city-foshan"}
WINDOW = {"width": 1400, "height": 1000}

# Run in a page: the graph frame's network once it has settled and painted, else null. Its node ids,
# painted pixels and the canvas's box in the window (the frame's offset added).
DRAWN_STEP = """() => {
  for (const frame of document.querySelectorAll('iframe')) {
    const win = frame.contentWindow;
    if (!win || !win.network || win.kbGraphSettled !== true || frame.offsetParent === null) continue;
    const canvas = win.document.querySelector('#kb-graph canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
    if (painted === 0) continue;
    const outer = frame.getBoundingClientRect(), inner = canvas.getBoundingClientRect();
    return {nodes: win.network.body.data.nodes.getIds(), painted: painted,
            top: outer.top + inner.top, left: outer.left + inner.left, width: inner.width, height: inner.height};
  }
  return null;
}"""


def kb(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def shipped_names() -> list[str]:
    return sorted(path.stem for path in SHIPPED.glob("*.yaml"))


def write_story(folder: Path, name: str, document) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def story_folder(tmp_path, monkeypatch):
    """An empty stories folder of the test's own (KB_STORIES), so nothing is written into stories/."""
    monkeypatch.setenv("KB_STORIES", str(tmp_path))
    return tmp_path


def test_a_story_ships_and_every_id_it_names_exists_after_loading_the_seeds(seeded_readonly):
    assert shipped_names(), "at least one story ships in stories/"
    for name in shipped_names():
        story = stories.load(name)
        stories.check_ids(story)
        for number, step in enumerate(story.steps, start=1):
            shown = stories.view(step)
            assert shown.rows or (shown.graph and len(shown.graph.nodes) > 1) or (
                shown.page and 'class="kb-arc"' in shown.page), (name, number, step)


def test_the_shipped_story_only_names_entities_the_seed_files_hold():
    from tests.conftest import seed_entities
    held = {entity["id"] for entity in seed_entities()}
    for name in shipped_names():
        named = {entity_id for step in stories.load(name).steps for entity_id in step.entity_ids()}
        assert named <= held, (name, named - held)


@pytest.mark.parametrize("step, number, field_name", [
    ({**GOOD_STEP, "kind": "movie"}, 2, "kind"),
    ({"title": "Map", "kind": "map", "relation_types": ["LOCATED_IN"]}, 2, "relation_types"),
    ({"title": "Map", "kind": "map", "id": "city-foshan"}, 2, "id"),
    ({"title": "No id", "kind": "explore"}, 2, "id"),
    ({**GOOD_STEP, "depth": 5}, 2, "depth"),
    ({**GOOD_STEP, "relation_types": ["LIKES"]}, 2, "relation_types"),
    ({**GOOD_STEP, "year": "recent"}, 2, "year"),
    ({**GOOD_STEP, "colour": "red"}, 2, "colour"),
    ({**GOOD_STEP, "title": ""}, 2, "title"),
    ({"title": "One end", "kind": "paths", "from": "city-foshan"}, 2, "to"),
    ({"title": "Unknown query", "kind": "query", "query": "no-such-query"}, 2, "query"),
    ({"title": "Unknown parameter", "kind": "query", "query": "alliance-members", "params": {"city": "x"}},
     2, "params.city"),
    ({**GOOD_STEP, "title": {"de": "Nur Deutsch"}}, 2, "title"),
    ({**GOOD_STEP, "note": {"en": "A city.", "fr": "Une ville."}}, 2, "note"),
    ({**GOOD_STEP, "note": {"en": ["a", "list"]}}, 2, "note"),
])
def test_a_bad_step_is_one_error_naming_file_step_and_field(story_folder, step, number, field_name):
    path = write_story(story_folder, "bad", {"title": "Bad", "steps": [GOOD_STEP, step]})
    with pytest.raises(StoryError) as raised:
        stories.load("bad")
    message = str(raised.value)
    assert str(path) in message and f"step {number}:" in message and f"field {field_name!r}" in message, message


@pytest.mark.parametrize("document, field_name", [
    ({"steps": [GOOD_STEP]}, "title"),
    ({"title": "Empty", "steps": []}, "steps"),
    ({"title": "Extra", "steps": [GOOD_STEP], "author": "me"}, "author"),
])
def test_a_bad_story_names_file_and_field(story_folder, document, field_name):
    path = write_story(story_folder, "bad", document)
    with pytest.raises(StoryError, match=f"{path}: field {field_name!r}"):
        stories.load("bad")


def test_an_id_missing_from_the_database_names_its_step(seeded_readonly, story_folder):
    path = write_story(story_folder, "stale", {"title": "Stale", "steps": [
        GOOD_STEP, {"title": "Gone", "kind": "paths", "from": "city-foshan", "to": "city-atlantis"}]})
    with pytest.raises(StoryError) as raised:
        stories.check_ids(stories.load("stale"))
    assert str(raised.value) == (f"{path}: step 2: field 'to': no entity has the id 'city-atlantis' "
                                 "in the database"), raised.value
    result = kb("story", "export", "stale", "--out", story_folder / "stale.html")
    assert result.exit_code == 1 and "city-atlantis" in result.output, result.output
    assert not (story_folder / "stale.html").exists()


def test_a_title_or_note_per_language_is_shown_in_that_language_else_in_english(story_folder):
    from kb.schema import LANGUAGES
    english, *others = LANGUAGES
    titles = {language: f"Foshan ({language})" for language in LANGUAGES}
    write_story(story_folder, "multi", {"title": {english: "Talk", others[0]: f"Talk ({others[0]})"},
                                        "steps": [{**GOOD_STEP, "title": titles, "note": {english: "A city."}}]})
    story = stories.load("multi")
    step = story.steps[0]
    assert [step.title.in_language(language) for language in LANGUAGES] == [titles[language] for language in LANGUAGES]
    assert [step.note.in_language(language) for language in LANGUAGES] == ["A city."] * len(LANGUAGES)
    assert [story.title.in_language(language) for language in LANGUAGES] == ["Talk", f"Talk ({others[0]})", "Talk"]
    # Appending a step writes the file again: the translations survive it.
    stories.add_step("multi", stories.Step(kind="explore", title=stories.Text("Taicang"), id="city-taicang"))
    again = stories.load("multi")
    assert again.steps[0] == step and again.title.in_language(others[0]) == f"Talk ({others[0]})"
    shown = kb("story", "show", "multi", "--lang", others[-1])
    assert shown.exit_code == 0 and f"1. {titles[others[-1]]}\n" in shown.output, shown.output
    refused = kb("story", "show", "multi", "--lang", "xx")
    assert refused.exit_code == 2 and "'xx' is not one of the languages" in refused.output, refused.output


def test_every_shipped_story_is_written_in_each_language():
    from kb.schema import LANGUAGES
    for name in shipped_names():
        story = stories.load(name)
        assert dict(story.title.translations).keys() == set(LANGUAGES[1:]), (name, "title")
        for number, step in enumerate(story.steps, start=1):
            assert dict(step.title.translations).keys() == set(LANGUAGES[1:]), (name, number, "title")
            assert not step.note.english or dict(step.note.translations).keys() == set(LANGUAGES[1:]), (name, number, "note")


def test_kb_story_list_and_show(story_folder):
    write_story(story_folder, "good", {"title": "A good one", "steps": [GOOD_STEP, {**GOOD_STEP, "depth": 2}]})
    write_story(story_folder, "broken", {"title": "Broken", "steps": [{**GOOD_STEP, "depth": 9}]})
    listed = kb("story", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1] == "good\t2 steps\tA good one", lines
    assert lines[0].startswith("broken\tbroken\t") and "field 'depth'" in lines[0], lines
    shown = kb("story", "show", "good")
    assert shown.exit_code == 0 and "2. Foshan\n   explore city-foshan, depth 2" in shown.output, shown.output
    bad = kb("story", "show", "broken")
    assert bad.exit_code == 1 and "step 1: field 'depth'" in bad.output, bad.output
    missing = kb("story", "show", "nothing-here")
    assert missing.exit_code == 1 and "no such story" in missing.output, missing.output
    for command in ("list", "show", "export"):
        assert kb("story", command, "--help").exit_code == 0


def wait_for_step(page, url_step: int, title: str) -> dict:
    """Wait until the app shows the step (URL and title), then until its graph is drawn; returns the graph."""
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("step") == [str(url_step)])
    page.get_by_text(title).first.wait_for()
    time.sleep(0.5)  # the rerun replaces the previous step's frame
    return page.wait_for_function(DRAWN_STEP, polling=100).json_value()


def test_the_story_plays_in_the_app_with_the_arrow_keys(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    page.set_viewport_size(WINDOW)
    story = stories.load("foshan-2019")
    first, second = story.steps[0], story.steps[1]
    page.goto(f"{app_url}/story?story=foshan-2019&step=1")
    drawn = wait_for_step(page, 1, first.title.english)
    assert first.id in drawn["nodes"], drawn["nodes"]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "story-foshan-2019-step-1.png"))
    filled = drawn["width"] * drawn["height"] / (WINDOW["width"] * WINDOW["height"])
    print(f"story at 1400x1000: canvas from y={drawn['top']:.0f} px, {drawn['width']:.0f}x{drawn['height']:.0f} px, "
          f"{filled:.0%} of the window; screenshot test-output/story-foshan-2019-step-1.png")
    assert drawn["top"] < 80 and filled > 0.85, drawn
    assert not page.locator("[data-testid='stSidebar'], header[data-testid='stHeader']").is_visible()

    page.keyboard.press("ArrowRight")
    drawn = wait_for_step(page, 2, second.title.english)
    assert second.id in drawn["nodes"], drawn["nodes"]
    page.keyboard.press("ArrowLeft")
    drawn = wait_for_step(page, 1, first.title.english)
    assert first.id in drawn["nodes"]
    # With the focus in the drawing (a click on it), the keys still turn the page.
    page.mouse.click(drawn["left"] + 5, drawn["top"] + 5)
    page.keyboard.press("ArrowRight")
    wait_for_step(page, 2, second.title.english)
    assert blocked == [], f"requests left loopback: {blocked}"


def test_the_exported_story_plays_offline_from_disk(seeded_readonly, chromium, tmp_path):
    out = tmp_path / "foshan-2019.html"
    result = kb("story", "export", "foshan-2019", "--out", out)
    assert result.exit_code == 0, result.output
    story = stories.load("foshan-2019")
    expected = [stories.view(step) for step in story.steps]
    requested = []

    def refuse_the_network(route):
        if not route.request.url.startswith(("file:", "about:", "data:")):
            requested.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context = chromium.new_context(viewport=WINDOW, offline=True)
    try:
        context.route("**/*", refuse_the_network)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(out.as_uri())
        for number, (step, shown) in enumerate(zip(story.steps, expected), start=1):
            if number > 1:
                page.keyboard.press("ArrowRight")
            page.wait_for_function("(title) => document.getElementById('title').textContent === title", arg=step.title.english)
            assert page.evaluate("location.hash") == f"#step={number}"
            if shown.graph is None:
                rows = page.locator("#table tbody tr")
                assert rows.count() == len(shown.rows), (number, step.title.english)
                continue
            drawn = page.wait_for_function(DRAWN_STEP, polling=100).json_value()
            assert sorted(drawn["nodes"]) == sorted(shown.graph.nodes), (number, step.title.english)
            if number == 1:
                page.screenshot(path=str(SCREENSHOTS / "story-export-step-1.png"))
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("(title) => document.getElementById('title').textContent === title",
                               arg=story.steps[-2].title.english)
    finally:
        context.close()
    assert requested == [], f"the exported file asked the network for: {requested}"


def test_an_exported_story_holds_its_maps_and_nothing_from_elsewhere(seeded_readonly, tmp_path):
    out = tmp_path / "sister-cities.html"
    result = kb("story", "export", "sister-cities", "--out", out)
    assert result.exit_code == 0, result.output
    exported = out.read_text(encoding="utf-8")
    maps = [step for step in stories.load("sister-cities").steps if step.kind == "map"]
    assert maps and exported.count('id=\\"kb-map\\"') == len(maps), "one drawn map per map step"
    assert "<script src=" not in exported and "<link " not in exported


@pytest.mark.parametrize("language", ["de", "zh"])
def test_an_exported_story_speaks_its_language(seeded_readonly, tmp_path, language):
    out = tmp_path / f"takeover-wave-{language}.html"
    result = kb("story", "export", "takeover-wave", "--out", out, "--lang", language)
    assert result.exit_code == 0, result.output
    exported, story = out.read_text(encoding="utf-8"), stories.load("takeover-wave")
    assert f'<html lang="{language}">' in exported and f"<title>{story.title.in_language(language)}</title>" in exported
    for step in story.steps:
        assert json.dumps(step.title.in_language(language), ensure_ascii=False) in exported, step.title
        assert json.dumps(step.note.in_language(language), ensure_ascii=False) in exported, step.note


def add_step_on(page: str, query_params: dict, kind: str, story: str, title: str) -> AppTest:
    """Open the page with the link's parameters and fill in "Add this view to a story"."""
    at = open_page(page, **query_params)
    at.text_input(key=f"add-to-story-{kind}-name").input(story)
    at.text_input(key=f"add-to-story-{kind}-title").input(title)
    at.text_input(key=f"add-to-story-{kind}-note").input(f"About {title}.")
    at.text_input(key=f"add-to-story-{kind}-story-title").input("My talk")
    next(button for button in at.button if button.label == "Add the step").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def play_step(story: str, number: int) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"story": story, "step": str(number)})
    at.run()
    at.switch_page("app_pages/story.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_add_this_view_writes_a_step_that_then_plays(seeded_db, story_folder):
    explored = add_step_on("explore", {"id": "city-taicang", "depth": "2"}, "explore", "my-talk", "Taicang")
    assert [s.value for s in explored.success] == ["Step 1 added to my-talk.yaml."], [e.value for e in explored.error]
    located = next(saved for saved in stories.SAVED_QUERIES if saved.name == "located-in-region")
    queried = add_step_on("cypher", {"q": located.cypher, "region": "region-jiangsu"}, "query", "my-talk", "Jiangsu")
    assert [s.value for s in queried.success] == ["Step 2 added to my-talk.yaml."], [e.value for e in queried.error]

    written = stories.load("my-talk")
    assert written.title.english == "My talk"
    assert written.steps == (
        stories.Step(kind="explore", title=stories.Text("Taicang"), note=stories.Text("About Taicang."),
                     id="city-taicang", depth=2),
        stories.Step(kind="query", title=stories.Text("Jiangsu"), note=stories.Text("About Jiangsu."),
                     query="located-in-region",
                     params=(("region", "region-jiangsu"),)))

    first = play_step("my-talk", 1)
    assert "Taicang" in "\n".join(m.value for m in first.markdown)
    frames = first.get("iframe")
    assert len(frames) == 1, "one graph expected"
    expected = stories.view(written.steps[0]).graph
    assert len(expected.nodes) > 1 and all(f'"id": "{node_id}"' in frames[0].proto.srcdoc for node_id in expected.nodes)
    second = play_step("my-talk", 2)
    assert "Jiangsu" in "\n".join(m.value for m in second.markdown)
    rows = stories.view(written.steps[1]).rows
    assert rows and len(second.dataframe[0].value) == len(rows)


# Run in a page with what the step should show ({kind, nodes} of a graph, {kind, arcs} of a map, {kind} of a
# table): that view once it is drawn, else null (the previous step's view may still be on the page).
DRAWN_THIS_STEP = f"""(wanted) => {{
  if (wanted.kind === "graph") {{
    let graph = null;
    try {{ graph = ({DRAWN_STEP})(); }} catch (error) {{ return null; }}  // a frame being replaced
    return graph && graph.nodes.length === wanted.nodes.length && wanted.nodes.every(id => graph.nodes.includes(id))
      ? {{kind: "graph", nodes: graph.nodes.length}} : null;
  }}
  const frames = Array.from(document.querySelectorAll('iframe')).filter(frame => frame.offsetParent !== null);
  if (wanted.kind === "map") {{
    for (const frame of frames) {{
      const win = frame.contentWindow;
      if (!win || win.kbMapDrawn !== true) continue;
      const arcs = win.document.querySelectorAll('.kb-arc').length;
      if (arcs === wanted.arcs) return {{kind: "map", arcs: arcs, places: win.document.querySelectorAll('.kb-place').length,
                                         legend: win.document.querySelectorAll('.kb-legend-item').length,
                                         height: frame.getBoundingClientRect().height}};
    }}
    return null;
  }}
  const table = document.querySelector("[data-testid='stDataFrame']");
  return table && table.offsetParent !== null && frames.length === 0 ? {{kind: "table"}} : null;
}}"""


def wanted_view(step: stories.Step) -> dict:
    """What the step shows on the seeds, as DRAWN_THIS_STEP takes it."""
    shown = stories.view(step)
    if shown.page is not None:
        return {"kind": "map", "arcs": shown.page.count('class="kb-arc"')}
    if shown.graph is not None:
        return {"kind": "graph", "nodes": list(shown.graph.nodes)}
    return {"kind": "table"}


@pytest.mark.parametrize("name", shipped_names())
def test_every_step_of_a_shipped_story_plays_in_the_app(seeded_db, app_url, browser_page, name):
    """Each step drawn (graph, map or table) with its title in the language of the link and no error on the
    page, one screenshot per step. The stories take the languages in turn, so that each language is played."""
    from kb.schema import LANGUAGES
    language = LANGUAGES[shipped_names().index(name) % len(LANGUAGES)]
    page, blocked = browser_page
    page.set_viewport_size(WINDOW)
    story = stories.load(name)
    page.goto(f"{app_url}/story?story={name}&step=1&lang={language}")
    SCREENSHOTS.mkdir(exist_ok=True)
    for number, step in enumerate(story.steps, start=1):
        wanted = wanted_view(step)
        assert wanted["kind"] == {"explore": "graph", "paths": "graph", "map": "map"}.get(step.kind, wanted["kind"])
        if number > 1:
            page.keyboard.press("ArrowRight")
        page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("step") == [str(number)])
        page.get_by_text(step.title.in_language(language)).first.wait_for()
        drawn = page.wait_for_function(DRAWN_THIS_STEP, arg=wanted, polling=100).json_value()
        if step.kind == "map":
            assert drawn["arcs"] > 0 and drawn["legend"] > 0 and drawn["height"] > 800, (name, number, drawn)
        errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError'], "
                              "[data-testid='stAlertContentWarning']")
        assert errors.count() == 0, (name, number, errors.all_inner_texts())
        path = SCREENSHOTS / f"story-{name}-step-{number}.png"
        page.screenshot(path=str(path))
        print(f"{name} step {number} ({step.kind}, {language}): {drawn}; {path.relative_to(SCREENSHOTS.parent)}")
    assert blocked == [], f"requests left loopback: {blocked}"
