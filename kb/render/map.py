"""The map: Germany and China side by side, each from the outlines shipped in kb/render/outlines/
(Natural Earth, public domain), places as dots sized by their ties, ties as arcs coloured by relation
type. One self-contained HTML page holding an SVG: no tile server, no script or font from elsewhere."""
from __future__ import annotations

import functools
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

from kb.geo import MapData, Place
from kb.names import CJK
from kb.render import i18n
from kb.schema import schema

OUTLINES = Path(__file__).with_name("outlines") / "countries.geojson"
WIDTH, HEIGHT = 1400, 700
LEGEND_HEIGHT = 64   # room for two rows
# Places named on the map (the others by their tooltip): the most tied first, at most LABELLED, and none
# whose name would overlap a name already placed or another place's dot.
LABELLED = 30
LABEL_FONT = 15          # px in the SVG's units (kb-label in PAGE)
LABEL_WIDTH = 0.58       # of the font size, an average Latin letter's width (a Chinese character's is 1)
LEGEND_FONT = 16         # px, as #kb-map text in PAGE
LEGEND_LETTER = 8.5 / LEGEND_FONT   # the legend's Latin letters, of its font size (many narrow ones: l, i, t)
# A relation type without a map colour in the schema takes the next of these.
OTHER_COLOURS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354")
# An arc whose ties never held (plans, blocked or withdrawn deals).
DASHED = ' stroke-dasharray="7 5"'
COUNTRY_FILL = {"DE": "#f1efe8", "CN": "#f6f1e4"}
PLACE_FILL = {"DE": "#222222", "CN": "#c79a00"}


@dataclass(frozen=True)
class Panel:
    """One country's frame on the map: the part of the globe shown and the box it is drawn into."""
    country: str
    title: str   # the key of its name in kb/render/strings.yaml
    west: float
    east: float
    south: float
    north: float
    box: tuple   # x, y, width, height in the SVG

    @functools.cached_property
    def _fit(self) -> tuple[float, float, float, float]:
        """Scale and offsets of an equirectangular projection (longitudes shrunk by the cosine of the
        middle latitude), fitted into the box and centred in it."""
        squeeze = math.cos(math.radians((self.south + self.north) / 2))
        x, y, width, height = self.box
        scale = min(width / ((self.east - self.west) * squeeze), height / (self.north - self.south))
        left = x + (width - (self.east - self.west) * squeeze * scale) / 2
        top = y + (height - (self.north - self.south) * scale) / 2
        return squeeze, scale, left, top

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        squeeze, scale, left, top = self._fit
        return left + (lon - self.west) * squeeze * scale, top + (self.north - lat) * scale


PANELS = (
    Panel("DE", "germany", 5.6, 15.3, 47.1, 55.2, (20, 30, 440, HEIGHT - LEGEND_HEIGHT - 40)),
    Panel("CN", "china", 73.3, 135.2, 17.9, 53.8, (500, 30, 880, HEIGHT - LEGEND_HEIGHT - 40)),
)


def panel_of(place: Place) -> Panel:
    """The panel a place is drawn in: its country's, or (no country given) the nearer one by longitude."""
    for panel in PANELS:
        if place.country == panel.country:
            return panel
    return PANELS[0] if place.lon < 45 else PANELS[1]


@functools.cache
def outlines() -> dict:
    """Country code -> list of rings (lists of [lon, lat]) from the shipped outlines."""
    document = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return {feature["properties"]["country"]: [polygon[0] for polygon in feature["geometry"]["coordinates"]]
            for feature in document["features"]}


def bounding_box(country: str) -> tuple[float, float, float, float]:
    """west, south, east, north of a country's shipped outline."""
    points = [point for ring in outlines()[country] for point in ring]
    return (min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points))


def colour(relation_type: str, shown: list[str]) -> str:
    declared = schema().relation(relation_type).map_color
    if declared:
        return declared
    others = [name for name in shown if not schema().relation(name).map_color]
    return OTHER_COLOURS[others.index(relation_type) % len(OTHER_COLOURS)] if relation_type in others else "#555555"


def text_width(text: str, font: float, letter: float = LABEL_WIDTH) -> float:
    """About how wide text is drawn at this font size: a Chinese character a square, any other letter the
    letter's share of the font size."""
    return sum(font if CJK.match(character) else letter * font for character in text)


def _outline_paths(language: str) -> str:
    paths = []
    for panel in PANELS:
        for ring in outlines().get(panel.country, []):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (panel.point(lon, lat) for lon, lat in ring))
            paths.append(f'<polygon class="kb-country" data-country="{panel.country}" points="{points}" '
                         f'fill="{COUNTRY_FILL[panel.country]}" stroke="#9a9486" stroke-width="0.8"/>')
        x, y, width, _ = panel.box
        paths.append(f'<text x="{x + width / 2:.0f}" y="{y - 8}" text-anchor="middle" class="kb-panel">'
                     f'{html.escape(i18n.text(panel.title, language))}</text>')
    return "\n".join(paths)


def _arc_path(start: tuple, end: tuple, bend: float) -> str:
    """A quadratic curve from start to end bowed to the left of its direction (upwards for a tie drawn
    left to right, from Germany to China) by bend times its length."""
    (x1, y1), (x2, y2) = start, end
    if x2 < x1:
        (x1, y1), (x2, y2) = (x2, y2), (x1, y1)
    dx, dy = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2 + dy * bend, (y1 + y2) / 2 - dx * bend
    return f"M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}"


def svg(data: MapData, align: str = "xMidYMin", language: str = i18n.DEFAULT) -> str:
    """The map as one SVG element (its size set by the page around it; align: where in it, as SVG's
    preserveAspectRatio says), its words and names in the language (the ties an arc names come written by
    kb.geo.map_data, in the language asked of it)."""
    shown = data.relation_types()
    names = {place_id: place.shown_name(language) for place_id, place in data.places.items()}
    points = {place_id: panel_of(place).point(place.lon, place.lat) for place_id, place in data.places.items()}
    ties = data.tie_counts()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="kb-map" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'preserveAspectRatio="{align} meet" role="img" aria-label="{html.escape(i18n.text("map_title", language))}">',
             _outline_paths(language)]
    # Many arcs cross: lighter, so that the denser bundles show.
    opacity = 0.75 if len(data.arcs) <= 60 else 0.5
    # Several relation types between the same two places: each its own curve, bent further.
    bends = {}
    for arc in sorted(data.arcs, key=lambda arc: -arc.count):
        pair = tuple(sorted((arc.start, arc.end)))
        bend = 0.12 + 0.08 * bends.get(pair, 0)
        bends[pair] = bends.get(pair, 0) + 1
        more = arc.count - len(arc.ties)
        listed = arc.ties + ([i18n.text("map_more_ties", language, count=more)] if more > 0 else [])
        tooltip = (f"{names[arc.start]} – {names[arc.end]}: {schema().relation_label(arc.type, language)} "
                   f"({arc.count})\n" + "\n".join(listed))
        parts.append(f'<path class="kb-arc" data-type="{arc.type}" d="{_arc_path(points[arc.start], points[arc.end], bend)}" '
                     f'fill="none" stroke="{colour(arc.type, shown)}" stroke-width="{1.2 + math.log2(arc.count) * 0.9:.1f}" '
                     f'stroke-opacity="{opacity}"{DASHED if arc.only_never_held else ""}><title>{html.escape(tooltip)}</title></path>')
    ranked = sorted(data.places, key=lambda place_id: (-ties[place_id], data.places[place_id].name))
    radii = {place_id: 2.5 + 1.5 * math.sqrt(ties[place_id]) for place_id in ranked}
    labelled = _labels(names, ranked, points, radii, ties)
    # The most tied drawn last, on top.
    for place_id in reversed(ranked):
        place, (x, y) = data.places[place_id], points[place_id]
        count = ties[place_id]
        radius = radii[place_id]
        fill = PLACE_FILL.get(place.country, "#666666") if count else "#b5b0a4"
        shape = (f'<rect x="{x - radius:.1f}" y="{y - radius:.1f}" width="{2 * radius:.1f}" height="{2 * radius:.1f}" '
                 f'fill="none" stroke="{fill}" stroke-width="1.5"/>' if place.type == "Region" else
                 f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{fill}" stroke="#ffffff" stroke-width="0.8"/>')
        label = ""
        if place_id in labelled:
            lx, ly, anchor = labelled[place_id]
            label = (f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" class="kb-label">'
                     f'{html.escape(names[place_id])}</text>')
        tooltip = i18n.text("map_place_tooltip", language, name=names[place_id],
                            type=schema().entity_caption(place.type, language), count=count)
        parts.append(f'<g class="kb-place" data-id="{html.escape(place_id)}" data-ties="{count}">'
                     f'<title>{html.escape(tooltip)}</title>{shape}{label}</g>')
    parts.append(_legend(data, shown, language))
    parts.append("</svg>")
    return "\n".join(parts)


def _labels(names: dict, ranked: list, points: dict, radii: dict, ties: dict) -> dict:
    """Place id -> (x, y, text-anchor) of the names drawn, most tied first: each right of its dot, else
    left, above or below, wherever it overlaps no name already placed and no other tied place's dot."""
    dots = {pid: (x - radii[pid], y - radii[pid], x + radii[pid], y + radii[pid]) for pid, (x, y) in points.items()
            if ties[pid]}
    placed, boxes = {}, []
    for place_id in ranked:
        if len(placed) == LABELLED or not ties[place_id]:
            break
        (x, y), radius = points[place_id], radii[place_id]
        width, rise = text_width(names[place_id], LABEL_FONT), LABEL_FONT * 0.75
        for left, base, anchor in ((x + radius + 2, y + 4, "start"), (x - radius - 2 - width, y + 4, "end"),
                                   (x - width / 2, y - radius - 3, "middle"), (x - width / 2, y + radius + rise + 1, "middle")):
            box = (left, base - rise, left + width, base + LABEL_FONT * 0.3)
            if any(_overlap(box, other) for other in boxes) or any(
                    _overlap(box, dot) for pid, dot in dots.items() if pid != place_id):
                continue
            placed[place_id] = ({"start": left, "end": left + width, "middle": left + width / 2}[anchor], base, anchor)
            boxes.append(box)
            break
    return placed


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _legend(data: MapData, shown: list[str], language: str) -> str:
    counts = {name: sum(arc.count for arc in data.arcs if arc.type == name) for name in shown}
    x, y = 20, HEIGHT - LEGEND_HEIGHT + 16
    items = []
    for name in shown:
        text = f"{schema().relation_label(name, language)} ({counts[name]})"
        width = 46 + text_width(text, LEGEND_FONT, LEGEND_LETTER)
        if x + width > WIDTH:   # the next row
            x, y = 20, y + 24
        items.append(f'<g class="kb-legend-item" data-type="{name}"><line x1="{x}" y1="{y}" x2="{x + 26}" y2="{y}" '
                     f'stroke="{colour(name, shown)}" stroke-width="3"/><text x="{x + 32}" y="{y + 4}">'
                     f'{html.escape(text)}</text></g>')
        x += width
    marks = i18n.text("map_legend_marks", language)
    if x + text_width(marks, LEGEND_FONT, LEGEND_LETTER) > WIDTH:
        x, y = 20, y + 24
    items.append(f'<text x="{x}" y="{y + 4}" fill="#555">{html.escape(marks)}</text>')
    return f'<g class="kb-legend">{"".join(items)}</g>'


# A click on a place opens link + its id in the window that embeds the map, by a link made and clicked
# in that window's own document (Streamlit's frame sandbox refuses the frame setting the top window's
# location: see NODE_LINK_SCRIPT in kb/render/graph.py). A page shown alone opens nothing.
PLACE_LINK_SCRIPT = """<script type="text/javascript">
document.querySelectorAll(".kb-place").forEach(function (place) {
  place.addEventListener("click", function () {
    if (window.parent === window) return;
    var host = window.parent.document, link = host.createElement("a");
    link.href = __LINK__ + encodeURIComponent(place.getAttribute("data-id"));
    host.body.appendChild(link);
    link.click();
  });
});
</script>"""

PAGE = """<!DOCTYPE html>
<html lang="__LANGUAGE__"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
html, body { margin: 0; height: 100%; background: #ffffff; font-family: sans-serif; }
#kb-map { display: block; width: 100%; height: __HEIGHT__; }
#kb-map text { font-size: 16px; fill: #222; }
#kb-map .kb-panel { font-size: 22px; font-weight: bold; fill: #555; }
#kb-map .kb-label { font-size: __LABEL_FONT__px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
#kb-map .kb-place { cursor: pointer; }
#kb-map .kb-arc:hover { stroke-opacity: 1; stroke-width: 4; }
</style></head>
<body>
__SVG__
__SCRIPT__
<script type="text/javascript">window.kbMapDrawn = true;</script>
</body></html>
"""


def page(data: MapData, link: str | None = None, height: str = "100vh", title: str | None = None,
         extras: tuple = (), language: str = i18n.DEFAULT) -> str:
    """The map as a standalone page in the language (its title by default the map's); with link (e.g.
    "./?id="), a click on a place opens link + its id; extras are put in after the map (scripts)."""
    script = PLACE_LINK_SCRIPT.replace("__LINK__", json.dumps(link).replace("<", "\\u003c")) if link else ""
    script += "".join(extras)
    title = i18n.text("map_title", language) if title is None else title
    return (PAGE.replace("__TITLE__", html.escape(title)).replace("__HEIGHT__", height)
            .replace("__LANGUAGE__", i18n.language_of(language))
            .replace("__LABEL_FONT__", str(LABEL_FONT))
            .replace("__SCRIPT__", script)
            .replace("__SVG__", svg(data, "xMidYMid" if height == "100vh" else "xMidYMin", language)))
