"""A Subgraph drawn as one self-contained pyvis HTML page: no request leaves the machine."""
from __future__ import annotations

import functools
import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pyvis
from pyvis.network import Network

from kb.render import i18n
from kb.schema import DEFAULT_EDGE_COLOR, schema
from kb.subgraph import Edge, Node, Subgraph

LAYOUT_SEED = 7
NODE_PROPERTIES_SHOWN = ("id", "kind", "sector", "date", "note")
# The layout starts from seeded random positions (improvedLayout off: vis-network's Kamada-Kawai start
# took 0.5 s of a 150-node hub's 1.1 s in Chromium) and settles in 200 steps (another 0.1 s less than
# 400, no visible difference on a hub's star). Measured with headless Chromium on the 1M graph.
STABILISATION_ITERATIONS = 200


@dataclass(frozen=True)
class CountryMark:
    text_key: str       # its name in kb/render/strings.yaml
    border: str
    dashed: bool = False


# The type's colour and shape (kb/schema.yaml) carry what an entity is; its border carries the country:
# a second channel beside colour (gold, black, grey dashed), readable for colour-blind viewers and on a projector.
COUNTRY_MARKS = {
    "CN": CountryMark("china", "#f5c400"),
    "DE": CountryMark("germany", "#000000"),
}
OTHER_COUNTRY = CountryMark("other_country", "#666666", dashed=True)
# The line of a tie: the relation type's colour, solid or dashed as the schema says; an undated tie (no
# `since`) cannot be placed in time and is dotted whatever its type, so a view "as of" a year shows it apart.
DASHED = [10, 6]
UNDATED_DOTS = [2, 6]
# More ties than this and their labels crowd the drawing: a tie's label shows while it (or an end) is
# hovered or selected.
EDGE_LABELS_SHOWN_UP_TO = 12
# Once the layout has settled, nodes whose labels meet a node or another label are pushed apart (the page's
# kbUntangle); measured by tests/test_legibility.py.
UNTANGLE_LABELS = True


@dataclass(frozen=True)
class Style:
    font_size: int
    edge_font_size: int
    node_size: int
    height: str
    label_width: int    # pixels: a longer entity name wraps onto more lines, rather than cross the drawing


NORMAL = Style(font_size=14, edge_font_size=10, node_size=16, height="620px", label_width=160)
PRESENTATION = Style(font_size=26, edge_font_size=16, node_size=26, height="820px", label_width=280)
# A story's step: as large as presentation mode, as high as the frame the player gives it.
FULL_WINDOW = Style(font_size=26, edge_font_size=16, node_size=26, height="100vh", label_width=280)

VIS_FILE_NAME = "vis-network.min.js"
TEMPLATE = Path(__file__).with_name("templates") / "graph.html"
EXPANSION_JS = TEMPLATE.with_name("expansion.js")

# Clicking a node opens a page of the app for it (node_link_script). The drawing sits in Streamlit's
# iframe, whose sandbox allows scripts and the app's origin but not navigating the top window: the
# frame setting the window's location is refused. A link made in the top page's own document and
# clicked there is the top page navigating itself, which the sandbox leaves alone, so no custom
# component (a frontend build and a value sent back to Python) is needed. It is a real navigation:
# each view becomes an entry of the browser's history and the back button returns to it. vis-network
# fires "click" for a press and release in place, never at the end of a drag. A click on the node
# the page already shows does nothing (the same URL but for the parameters' order). Where a double-click
# means something else (expansion_script), the click waits that long for a second one and then opens nothing
# if it came: vis-network reports each press of a double-click as a click too.
NODE_LINK_SCRIPT = """<script type="text/javascript">
function kbSameView(a, b) {
  var left = new URLSearchParams(a.search), right = new URLSearchParams(b.search);
  left.sort(); right.sort();
  return a.pathname === b.pathname && left.toString() === right.toString();
}
function kbOpenNode(id) {
  var host = window.parent.document;
  var link = host.createElement("a");
  link.href = __NODE_LINK__ + encodeURIComponent(id);
  if (kbSameView(link, window.parent.location)) return;
  host.body.appendChild(link);
  link.click();
}
var kbLastDoubleClick = -Infinity;
network.on("doubleClick", function () { kbLastDoubleClick = performance.now(); });
network.on("click", function (event) {
  if (event.nodes.length !== 1 || window.parent === window) return;
  var id = event.nodes[0], clickedAt = performance.now();
  if (clickedAt - kbLastDoubleClick < __WAIT__) return;  // the second press of a double-click
  if (!__WAIT__) { kbOpenNode(id); return; }
  setTimeout(function () { if (kbLastDoubleClick < clickedAt) kbOpenNode(id); }, __WAIT__);
});
</script>"""
# How long a click waits for a second press before it opens its node, where a double-click expands.
DOUBLE_CLICK_WAIT_MS = 300


def country_mark(country: str | None) -> CountryMark:
    return COUNTRY_MARKS.get(country or "", OTHER_COUNTRY)


@dataclass(frozen=True)
class Legend:
    types: dict         # caption -> (colour, shape)
    countries: dict     # caption -> (border colour, dashed)
    relations: dict     # label -> (colour, dashed)


def legend(language: str = i18n.DEFAULT, graph: Subgraph | None = None) -> Legend:
    """What the colours, shapes and lines mean, in the language; with a graph, only what it draws."""
    types = [t for t in schema().entities if graph is None or any(n.type == t for n in graph.nodes.values())]
    relations = [r for r in schema().relations if graph is None or any(e.type == r for e in graph.edges.values())]
    marks = [*COUNTRY_MARKS.values(), OTHER_COUNTRY]
    return Legend(
        {schema().entity_caption(t, language): (schema().color(t), schema().entities[t].shape) for t in types},
        {i18n.text(mark.text_key, language): (mark.border, mark.dashed) for mark in marks},
        {schema().relation_label(r, language): (schema().relations[r].color, schema().relations[r].dash)
         for r in relations})


SHAPE_SYMBOLS = {"dot": "●", "square": "■", "diamond": "◆", "triangle": "▲", "triangleDown": "▼", "star": "★",
                 "hexagon": "⬢"}


def legend_html(shown: Legend, language: str = i18n.DEFAULT) -> str:
    """The legend as one block of HTML (escaped), for the app's pages and for every drawn page."""
    def esc(value) -> str:
        return html.escape(str(value))
    types = " ".join(f'<span style="color:{colour}">{SHAPE_SYMBOLS.get(shape, "●")}</span>&nbsp;{esc(name)}'
                     for name, (colour, shape) in shown.types.items())
    countries = " ".join(f'<span style="border:2px {"dashed" if dashed else "solid"} {border};padding:0 4px">'
                         f'&nbsp;</span>&nbsp;{esc(name)}' for name, (border, dashed) in shown.countries.items())
    relations = " ".join(f'<span style="color:{colour}">{"╌╌" if dashed else "──"}</span>&nbsp;{esc(name)}'
                         for name, (colour, dashed) in shown.relations.items())
    parts = [f"<b>{esc(i18n.text('legend', language))}</b> · {esc(i18n.text('legend_types', language))}: {types}",
             f"{esc(i18n.text('legend_countries', language))}: {countries}"]
    if relations:
        parts.append(f"{esc(i18n.text('legend_relations', language))}: {relations} · "
                     f"{esc(i18n.text('legend_lines', language))}")
    return "<br>".join(parts)


def _sources_text(source_ids, source_titles: dict) -> str:
    if not source_ids:
        return "Sources: none recorded"
    cited = [source_titles.get(sid, sid) for sid in source_ids]
    return "Sources:\n" + "\n".join(f"• {text}" for text in cited)


def node_tooltip(node: Node, source_titles: dict, language: str = i18n.DEFAULT) -> str:
    """Plain text (vis-network shows titles as text): type, country, key properties, sources."""
    mark = country_mark(node.country)
    lines = [node.name, f"{schema().entity_caption(node.type, language)} · {node.country or '-'} "
                        f"({i18n.text(mark.text_key, language)})"]
    aliases = node.properties.get("aliases")
    if aliases:
        lines.append("Also: " + ", ".join(aliases))
    lines += [f"{key}: {node.properties[key]}" for key in NODE_PROPERTIES_SHOWN if node.properties.get(key)]
    lines.append(_sources_text(node.properties.get("sources"), source_titles))
    return "\n".join(lines)


def _is_symmetric(edge: Edge) -> bool:
    relation = schema().relations.get(edge.type)
    return bool(relation and relation.symmetric)


def edge_tooltip(edge: Edge, nodes: dict, source_titles: dict, language: str = i18n.DEFAULT) -> str:
    arrow = "—" if _is_symmetric(edge) else "→"
    label = schema().relation_label(edge.type, language)
    lines = [f"{nodes[edge.start].shown_name(language)} —{label}{arrow} {nodes[edge.end].shown_name(language)}"]
    for key in ("since", "until", "role", "share", "status", "value_usd_m", "note"):
        if edge.properties.get(key) not in (None, ""):
            lines.append(f"{key}: {edge.properties[key]}")
    if not edge.properties.get("since"):
        lines.append("undated: no `since` recorded")
    lines.append(_sources_text(edge.sources, source_titles))
    return "\n".join(lines)


def _options(style: Style) -> dict:
    return {
        "layout": {"randomSeed": LAYOUT_SEED, "improvedLayout": False},
        "physics": {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 120, "avoidOverlap": 0.4},
            "stabilization": {"enabled": True, "iterations": STABILISATION_ITERATIONS, "fit": True},
        },
        "nodes": {"font": {"size": style.font_size}, "size": style.node_size, "borderWidth": 3,
                  "widthConstraint": {"maximum": style.label_width}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}}, "smooth": {"type": "continuous"},
                  "font": {"size": style.edge_font_size, "align": "horizontal"}, "color": {"inherit": False}},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False},
    }


def _edge_order(edge: Edge) -> tuple:
    # Element ids change when data is reloaded; the edge's content does not.
    return edge.start, edge.type, edge.end, json.dumps(edge.properties, sort_keys=True, default=str)


def drawing(graph: Subgraph, presentation: bool = False, source_titles: dict | None = None,
            node_style: dict | None = None, style: Style | None = None, language: str = i18n.DEFAULT) -> "Drawing":
    """The subgraph's network as pyvis builds it (nodes, edges, options), ready to be made a page.

    node_style: id -> {"color": fill, "size": pixels} to replace the type's colour and the default size
    (the Analysis page colours by community and sizes by a measure); style, when given, replaces the one
    presentation chooses; language: of the entities' names, the ties' labels and the legend."""
    language = i18n.language_of(language)
    style = style or (PRESENTATION if presentation else NORMAL)
    hover_labels = hides_edge_labels(graph)
    nodes, edges = _network_data(graph, style, source_titles or {}, node_style or {}, language, hover_labels)
    return Drawing(style.height, _script_json(nodes), _script_json(edges), _script_json(_options(style)),
                   legend_html(legend(language, graph), language), hover_labels)


def hides_edge_labels(graph: Subgraph) -> bool:
    """Whether a drawing of the graph shows its ties' labels on hover or selection only."""
    return len(graph.edges) > EDGE_LABELS_SHOWN_UP_TO


def expansion(graph: Subgraph, hover_labels: bool, presentation: bool = False, source_titles: dict | None = None,
              language: str = i18n.DEFAULT) -> dict:
    """The graph's nodes and edges styled as drawing() styles them, to be added to a page already drawn
    (expansion_script); hover_labels: that drawing's, so the added ties' labels show as its own do."""
    style = PRESENTATION if presentation else NORMAL
    nodes, edges = _network_data(graph, style, source_titles or {}, {}, i18n.language_of(language), hover_labels)
    return {"nodes": nodes, "edges": edges}


def _network_data(graph: Subgraph, style: Style, titles: dict, node_style: dict, language: str,
                  hover_labels: bool) -> tuple[list, list]:
    """The nodes and edges pyvis builds for the graph, coloured, shaped and labelled from the schema."""
    net = Network(height=style.height, width="100%", directed=True, cdn_resources="in_line")
    # Sorted, so the seeded layout does not depend on the order the database returned rows in.
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        mark = country_mark(node.country)
        own = node_style.get(node.id, {})
        fill = own.get("color", schema().color(node.type))
        shape = schema().entities[node.type].shape if node.type in schema().entities else "dot"
        net.add_node(node.id, label=node.shown_name(language), shape=shape, title=node_tooltip(node, titles, language),
                     color={"background": fill, "border": mark.border,
                            "highlight": {"background": fill, "border": mark.border}},
                     shapeProperties={"borderDashes": [5, 4] if mark.dashed else False},
                     **({"size": own["size"]} if "size" in own else {}))
    parallel = {}
    for edge in sorted(graph.edges.values(), key=_edge_order):
        pair = frozenset((edge.start, edge.end))
        rank = parallel[pair] = parallel.get(pair, -1) + 1
        # Two facts about the same pair (OWNS and ACQUIRED) would be drawn on top of each other.
        smooth = {"enabled": True, "type": "curvedCW", "roundness": 0.25 * rank} if rank else None
        # A symmetric tie (two sister cities) has no direction to show.
        arrows = {"arrows": {"to": {"enabled": False}}} if _is_symmetric(edge) else {}
        relation = schema().relations.get(edge.type)
        label = schema().relation_label(edge.type, language)
        dashes = UNDATED_DOTS if not edge.properties.get("since") else DASHED if relation and relation.dash else False
        # Crowded: the label waits in kbLabel until the tie is hovered or selected (the page's script).
        net.add_edge(edge.start, edge.end, label="" if hover_labels else label, kbLabel=label,
                     title=edge_tooltip(edge, graph.nodes, titles, language),
                     color=relation.color if relation else DEFAULT_EDGE_COLOR, dashes=dashes,
                     **({"smooth": smooth} if smooth else {}), **arrows)
    nodes, edges, *_ = net.get_network_data()
    return nodes, edges


@dataclass(frozen=True)
class Drawing:
    height: str
    nodes: str          # JSON, safe inside a script
    edges: str
    options: str
    legend: str = ""            # HTML: what the drawn colours, shapes and lines mean
    hover_labels: bool = False  # the ties' labels show on hover or selection only

    def page(self, vis_url: str | None = None, extras: tuple = (), with_legend: bool = True) -> str:
        """One standalone HTML page (templates/graph.html); the same graph gives the same page byte for
        byte. vis_url: load vis-network from there (the app's published copy, which the browser caches
        across drawings) instead of holding its 900 KB. extras: HTML the page ends with (scripts such
        as node_link_script's, buttons). with_legend: the legend under the drawing (the app's pages show
        their own beside the frame)."""
        return _template().render(height=self.height, nodes=self.nodes, edges=self.edges, options=self.options,
                                  vis_url=vis_url, vis_library=None if vis_url else vis_library(), extras=extras,
                                  legend=self.legend if with_legend else "", hover_labels=self.hover_labels,
                                  untangle=UNTANGLE_LABELS)


def to_html(graph: Subgraph, **drawn) -> str:
    """The subgraph as one standalone page (drawing's arguments), vis-network held in it."""
    return drawing(graph, **drawn).page()


def _script_json(value) -> str:
    # No "<" at all: neither "</script>" nor "<!--" can then end or change the script; "\\u003c" is the
    # same character to JSON and to JavaScript.
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


@functools.cache
def _template() -> jinja2.Template:
    return jinja2.Template(TEMPLATE.read_text(encoding="utf-8"), autoescape=False, keep_trailing_newline=True)


def node_link_script(link: str, double_click_wait_ms: int = 0) -> str:
    """A script for to_html's extras: clicking a node opens link + the node's id (URL-encoded) in the
    window that embeds the page; a page without it (a download, an export) opens nothing on a click.

    link is resolved against the embedding page's URL (e.g. "./?depth=2&id="). double_click_wait_ms: how
    long a click waits for a second press (a double-click then opens nothing), where double-clicks expand."""
    # json.dumps quotes it as a JavaScript string; "<" escaped so no text can close or open a tag.
    return (NODE_LINK_SCRIPT.replace("__NODE_LINK__", json.dumps(link).replace("<", "\\u003c"))
            .replace("__WAIT__", str(int(double_click_wait_ms))))


def expansion_script(view: str) -> str:
    """A script for to_html's extras: a double-click on a node asks the embedding page (app_pages/expand.py)
    for its neighbours, and the page's answer is drawn in place (templates/expansion.js). view names the
    drawing, so an answer meant for another is not applied."""
    return ("<script type=\"text/javascript\">\nvar kbView = " + _script_json(view) + ";\n"
            + EXPANSION_JS.read_text(encoding="utf-8") + "</script>")


@functools.cache
def vis_library() -> str:
    """The vis-network script that a page holds when no vis_url is given (pyvis ships it)."""
    library = sorted((Path(pyvis.__file__).parent / "templates" / "lib").glob("vis-*/vis-network.min.js"))
    if not library:
        raise RuntimeError("pyvis no longer ships vis-network.min.js under templates/lib; kb/render/graph.py needs updating")
    return library[-1].read_text(encoding="utf-8")


def publish_vis_library(folder: Path) -> Path:
    """Write vis_library() to folder (if it is not there already) for with_vis_library_at's url."""
    path = folder / VIS_FILE_NAME
    text = vis_library()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        folder.mkdir(parents=True, exist_ok=True)
        # Its own staging file: apps starting together (one per test worker) write the same folder.
        staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        staged.write_text(text, encoding="utf-8")
        staged.replace(path)
    return path
