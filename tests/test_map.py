"""The Map page: coordinates of the seeds inside their country's outline, the map's data on the seeds
(arcs, the year and relation filters), the page through AppTest, and in Chromium: the map drawn, a
click on a city opening Explore of it, the page and the drawing in German and Chinese, nothing leaving
loopback."""
from __future__ import annotations

import re
import time

import pytest

from kb import db, geo
from kb.names import CJK, entity_name
from kb.render import i18n, map as kb_map
from kb.schema import schema
from tests.conftest import seed_entities
from tests.test_app import fresh_cache, open_page  # noqa: F401 (an autouse fixture)
from tests.test_browser import SCREENSHOTS

# Run in the app's page: the map frame once its SVG is in and drawn, with its places and arcs; else null.
DRAWN_MAP = """() => {
  for (const frame of document.querySelectorAll('iframe')) {
    const win = frame.contentWindow;
    if (!win || win.kbMapDrawn !== true || frame.offsetParent === null) continue;
    const svg = win.document.getElementById('kb-map');
    const box = svg.getBoundingClientRect();
    if (box.width === 0) continue;
    return {places: win.document.querySelectorAll('.kb-place').length,
            arcs: win.document.querySelectorAll('.kb-arc').length,
            countries: win.document.querySelectorAll('.kb-country').length,
            legend: win.document.querySelectorAll('.kb-legend-item').length, width: box.width, height: box.height};
  }
  return null;
}"""


def placed_seeds() -> list[dict]:
    return [entity for entity in seed_entities() if entity["type"] in geo.PLACE_TYPES]


def test_every_seed_place_with_coordinates_lies_inside_its_countrys_outline_box():
    places = placed_seeds()
    with_coordinates = [place for place in places if "lat" in place]
    outside = []
    for place in with_coordinates:
        west, south, east, north = kb_map.bounding_box(place["country"])
        if not (west <= place["lon"] <= east and south <= place["lat"] <= north):
            outside.append((place["id"], place["country"], place["lat"], place["lon"]))
    cities = [place for place in places if place["type"] == "City"]
    print(f"coordinates: {sum('lat' in city for city in cities)} of {len(cities)} cities, "
          f"{len(with_coordinates) - sum('lat' in city for city in cities)} of {len(places) - len(cities)} regions")
    assert not outside, outside
    assert all(("lat" in place) == ("lon" in place) for place in places), "lat and lon come together"
    assert all("src-geonames-cities" in place["sources"] for place in with_coordinates), \
        "a place's coordinates cite where they come from"


def test_the_outlines_are_china_and_germany():
    assert set(kb_map.outlines()) == {"CN", "DE"}
    west, south, east, north = kb_map.bounding_box("DE")
    assert 5 < west < 6.5 and 14.5 < east < 15.5 and 47 < south < 48 and 54.5 < north < 55.5
    west, south, east, north = kb_map.bounding_box("CN")
    assert 73 < west < 74 and 134 < east < 135.5 and 18 < south < 19 and 53 < north < 54


def arc(data: geo.MapData, start: str, end: str, relation_type: str):
    return next((a for a in data.arcs if {a.start, a.end} == {start, end} and a.type == relation_type), None)


def test_map_data_on_the_seeds(seeded_readonly):
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        data = geo.map_data()
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    drawn = kb_map.page(data)
    print(f"map_data on the seeds: {len(data.places)} places, {len(data.arcs)} arcs, median of 5 "
          f"{sorted(timings)[2] * 1000:.0f} ms; page {(time.perf_counter() - started) * 1000:.0f} ms, "
          f"{len(drawn) / 1024:.0f} KB")
    assert set(data.places) == {place["id"] for place in placed_seeds() if "lat" in place}
    sisters = arc(data, "city-duisburg", "city-wuhan", "SISTER_CITY_OF")
    assert sisters and sisters.count == 1 and "1982" in sisters.ties[0], sisters
    # A tie is named in the language too: the Chinese names of Duisburg and Wuhan.
    seeds = {entity["id"]: entity for entity in seed_entities()}
    chinese = {entity_name(seeds[i]["name"], seeds[i].get("aliases"), seeds[i]["type"], seeds[i].get("country"), "zh")
               for i in ("city-duisburg", "city-wuhan")}
    named_in_chinese = arc(geo.map_data(language="zh"), "city-duisburg", "city-wuhan", "SISTER_CITY_OF").ties
    assert set(named_in_chinese[0].split(" (")[0].split(" → ")) == chinese, (named_in_chinese, chinese)
    assert all(CJK.search(name) for name in chinese), chinese
    # A firm stands at its head office: Midea's takeover of Kuka is drawn from Foshan to Augsburg, Schaeffler's
    # sites in Shanghai from Herzogenaurach.
    assert arc(data, "city-foshan", "city-augsburg", "ACQUIRED"), [a for a in data.arcs if a.type == "ACQUIRED"][:5]
    assert arc(data, "city-herzogenaurach", "city-shanghai", "SITE_IN")
    assert not any(a.type in geo.NOT_DRAWN for a in data.arcs)
    # Ties that never held are drawn dashed: SVOLT's abandoned plant at Überherrn, from Changzhou; State
    # Grid's blocked bid for 50Hertz is named in its arc's tooltip.
    abandoned = arc(data, "city-changzhou", "city-ueberherrn", "PRODUCTION_BASE_IN")
    assert abandoned and abandoned.only_never_held and "abandoned" in abandoned.ties[0], abandoned
    assert any("50Hertz (2018, blocked)" in tie for tie in arc(data, "city-beijing", "city-berlin", "ACQUIRED").ties)
    assert 'stroke-dasharray' in kb_map.svg(data)
    assert all(a.start != a.end for a in data.arcs)

    only_sisters = geo.map_data(["SISTER_CITY_OF"])
    assert only_sisters.relation_types() == ["SISTER_CITY_OF"]
    assert arc(only_sisters, "city-duisburg", "city-wuhan", "SISTER_CITY_OF")
    assert arc(geo.map_data(["SISTER_CITY_OF"], year=1982), "city-duisburg", "city-wuhan", "SISTER_CITY_OF")
    before = geo.map_data(["SISTER_CITY_OF"], year=1981)
    assert not arc(before, "city-duisburg", "city-wuhan", "SISTER_CITY_OF")
    assert sum(a.count for a in before.arcs) < sum(a.count for a in only_sisters.arcs)


def test_a_large_map_draws_the_most_tied_arcs_and_their_places_and_says_when_it_read_only_some_ties(seeded_readonly, monkeypatch):
    whole = geo.map_data()
    monkeypatch.setattr(geo, "MAX_ARCS", 5)
    fewer = geo.map_data()
    assert [(a.start, a.end, a.type, a.count) for a in fewer.arcs] == [(a.start, a.end, a.type, a.count) for a in whole.arcs[:5]]
    assert (fewer.arc_count, fewer.tie_count, fewer.capped) == (len(whole.arcs), sum(a.count for a in whole.arcs), False)
    assert fewer.all_places and set(fewer.places) == set(whole.places)
    monkeypatch.setattr(geo, "MAX_PLACES", 10)
    ends_only = geo.map_data()
    assert not ends_only.all_places and set(ends_only.places) == {p for a in fewer.arcs for p in (a.start, a.end)}
    monkeypatch.setattr(geo, "MAX_TIES", 40)
    capped = geo.map_data()
    assert capped.capped and capped.tie_count + capped.unplaced <= 40 < whole.tie_count


def test_a_capped_read_says_so_even_when_no_tie_it_read_can_be_drawn(seeded_readonly, monkeypatch):
    """Ties from an entity that stands nowhere are neither drawn nor counted; a read of only such ties
    still says that the cap bit (it once came back empty, as if there were no ties)."""
    def ties_of(name: str) -> int:
        return db.read(f"MATCH ()-[r:`{schema().relation(name).name}`]->() RETURN count(r) AS c")[0]["c"]
    undrawable = [name for name in geo.drawable_relations() if ties_of(name) > 1
                  and (lambda whole: whole.tie_count + whole.unplaced == 0)(geo.map_data([name]))]
    assert undrawable, "the seeds hold a drawn type whose ties all start where no place stands"
    monkeypatch.setattr(geo, "MAX_TIES", 1)
    capped = geo.map_data([undrawable[0]])
    assert capped.capped and (capped.arcs, capped.tie_count, capped.unplaced) == ([], 0, 0)


def test_the_map_page_draws_the_seeds(seeded_readonly):
    started = time.perf_counter()
    at = open_page("map")
    elapsed = time.perf_counter() - started
    frames = at.get("iframe")
    assert len(frames) == 1, "one map expected"
    drawn = frames[0].proto.srcdoc
    assert 'id="kb-map"' in drawn and 'data-id="city-wuhan"' in drawn and 'class="kb-arc"' in drawn
    assert "window.parent.document" in drawn, "a click on a place opens Explore"
    rows = at.dataframe[0].value
    assert len(rows) == len(geo.map_data().arcs)
    print(f"Map page on the seeds (AppTest, cold cache): {elapsed:.2f} s, {len(rows)} arcs")

    at = open_page("map", relations=["SISTER_CITY_OF"], year="1982")
    drawn = at.get("iframe")[0].proto.srcdoc
    assert set(re.findall(r'class="kb-arc" data-type="(\w+)"', drawn)) == {"SISTER_CITY_OF"}
    assert at.multiselect(key="map-relations").value == ["SISTER_CITY_OF"]
    assert any("ties in force in 1982" in caption.value for caption in at.caption)


def test_the_map_draws_and_a_click_on_a_city_opens_explore(seeded_db, app_url, browser_page):
    page, blocked = browser_page
    started = time.monotonic()
    page.goto(f"{app_url}/map")
    drawn = page.wait_for_function(DRAWN_MAP, polling=100).json_value()
    elapsed = time.monotonic() - started
    print(f"Map page in Chromium on the seeds: drawn {elapsed:.2f} s after going there: {drawn}")
    assert drawn["places"] >= 150 and drawn["arcs"] > 50 and drawn["countries"] >= 2 and drawn["legend"] >= 3, drawn
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map-seeds.png"), full_page=True)
    for _ in range(3):
        started = time.monotonic()
        page.reload()
        page.wait_for_function(DRAWN_MAP, polling=100)
        print(f"Map page reloaded (warm): drawn {time.monotonic() - started:.2f} s after the reload")

    frame = next(f for f in page.frames if f.evaluate("() => window.kbMapDrawn === true"))
    frame.locator('.kb-place[data-id="city-duisburg"] circle').click()
    page.wait_for_url(re.compile(r"[?&]id=city-duisburg(&|$)"))
    page.get_by_role("heading", name=re.compile(r"^Duisburg · \d+ entities")).wait_for()
    assert blocked == [], f"requests left loopback: {blocked}"


# Run in the map's frame once drawn: the names written beside the places and the legend's entries, by id
# and relation type; the panels' titles; the multiselect's label is the page's.
MAP_WORDS = """() => {
  const frame = [...document.querySelectorAll('iframe')].find(f => f.contentWindow && f.contentWindow.kbMapDrawn === true);
  if (!frame) return null;
  const doc = frame.contentWindow.document;
  return {labels: Object.fromEntries([...doc.querySelectorAll('.kb-place')].filter(p => p.querySelector('.kb-label'))
                                     .map(p => [p.dataset.id, p.querySelector('.kb-label').textContent])),
          legend: Object.fromEntries([...doc.querySelectorAll('.kb-legend-item')].map(i => [i.dataset.type, i.textContent])),
          panels: [...doc.querySelectorAll('.kb-panel')].map(p => p.textContent), lang: doc.documentElement.lang};
}"""


@pytest.mark.parametrize("language", ["de", "zh"])
def test_the_map_follows_the_language(seeded_db, app_url, browser_page, language):
    page, blocked = browser_page
    page.goto(f"{app_url}/map?lang={language}")
    page.get_by_role("heading", name=i18n.text("page_map", language), exact=True).wait_for()
    page.get_by_text(i18n.text("only_relation_types", language), exact=True).wait_for()
    page.wait_for_function(DRAWN_MAP, polling=100)
    words = page.evaluate(MAP_WORDS)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"map-seeds-{language}.png"), full_page=True)
    assert words["lang"] == language, words["lang"]
    assert words["panels"] == [i18n.text("germany", language), i18n.text("china", language)], words["panels"]
    assert words["legend"] and all(text.startswith(schema().relation_label(name, language) + " (")
                                   for name, text in words["legend"].items()), words["legend"]
    assert any(schema().relation_label(name, language) != schema().relation_label(name) for name in words["legend"])
    places = {entity["id"]: entity for entity in placed_seeds()}
    expected = {place_id: entity_name(places[place_id]["name"], places[place_id].get("aliases"), places[place_id]["type"],
                                      places[place_id].get("country"), language) for place_id in words["labels"]}
    assert words["labels"] == expected
    if language == "zh":
        chinese = {place_id: name for place_id, name in words["labels"].items() if CJK.search(name)}
        assert len(chinese) >= len(words["labels"]) // 2, f"most places drawn carry a Chinese name: {words['labels']}"
    assert blocked == [], f"requests left loopback: {blocked}"
