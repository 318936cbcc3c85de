"""Every page in the language of the link (?lang=de, ?lang=zh), in Chromium: its title and one of its
controls or headings, a review item, a story's map step (the Map page's drawing: tests/test_map.py).
The expected words are read from kb/render/strings.yaml and the schema, in each language."""
from __future__ import annotations

import pytest

from kb.render import i18n, stories
from kb.schema import schema
from tests.test_map import MAP_WORDS
from tests.test_review import queue  # noqa: F401 (a fixture: candidate ties queued from an article)

pytestmark = pytest.mark.browser

# page (its path and link parameters), the key of its title, the key of a label or heading it shows
# late in its run (so that the page ran that far).
PAGES = [
    ("analysis", "page_analysis", "analysis_sources_bibtex"),
    ("overview", "page_overview", "overview_per_year"),
    ("entity?id=city-wuhan", "page_entity", "entity_timeline"),
    ("changes?id=firm-kuka", "page_changes", "changes_to"),
    ("cypher", "page_cypher", "cypher_run"),
    ("review", "page_review", "review_show"),
    ("map", "page_map", "story_add"),   # add_to_story's form, at the foot of Map, Explore, Paths and Cypher
]


@pytest.mark.parametrize("language", ["de", "zh"])
@pytest.mark.parametrize("path, title, control", PAGES, ids=[page[0].split("?")[0] for page in PAGES])
def test_the_page_follows_the_language(seeded_db, app_url, browser_page, path, title, control, language):
    page, blocked = browser_page
    joiner = "&" if "?" in path else "?"
    page.goto(f"{app_url}/{path}{joiner}lang={language}")
    page.get_by_role("heading", name=i18n.text(title, language), exact=True).wait_for()
    page.get_by_text(i18n.text(control, language), exact=True).first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator('[data-testid="stException"]').first.inner_text()
    english = i18n.text(title, "en")
    if english != i18n.text(title, language):
        assert page.get_by_role("heading", name=english, exact=True).count() == 0, f"{english} is still shown"
    assert f"lang={language}" in page.url
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_review_item_follows_the_language(queue, app_url, browser_page):
    """A candidate tie on the Review page: its relation by the schema's label and its buttons in Chinese."""
    page, blocked = browser_page
    item = queue[("PRODUCTION_BASE_IN", "firm-bba", "city-shenyang")]
    page.goto(f"{app_url}/review?lang=zh")
    page.get_by_role("heading", name=i18n.text("page_review", "zh"), exact=True).wait_for()
    label = schema().relation_label("PRODUCTION_BASE_IN", "zh")
    tie = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=item["from"]).filter(has_text=item["to"])
    tie.filter(has_text=f" · {label} · ").first.wait_for()
    assert "PRODUCTION_BASE_IN" not in tie.first.inner_text()
    assert page.locator(f".st-key-accept-{item['id']} button").inner_text() == i18n.text("review_accept", "zh")
    assert page.locator(f".st-key-reject-{item['id']} button").inner_text() == i18n.text("review_reject", "zh")
    assert blocked == [], f"requests left loopback: {blocked}"


def test_a_story_map_step_follows_the_language(seeded_db, app_url, browser_page):
    """The first map step of the shipped stories, played at ?lang=zh: its legend and panels in Chinese."""
    page, blocked = browser_page
    name, number = next((name, number) for name in stories.names()
                        for number, step in enumerate(stories.load(name).steps, start=1) if step.kind == "map")
    page.goto(f"{app_url}/story?story={name}&step={number}&lang=zh")
    page.wait_for_function(f"() => ({MAP_WORDS})() !== null", polling=100)
    words = page.evaluate(MAP_WORDS)
    assert words["lang"] == "zh"
    assert words["panels"] == [i18n.text("germany", "zh"), i18n.text("china", "zh")], words["panels"]
    assert words["legend"] and all(text.startswith(schema().relation_label(relation, "zh") + " (")
                                   for relation, text in words["legend"].items()), words["legend"]
    assert blocked == [], f"requests left loopback: {blocked}"
