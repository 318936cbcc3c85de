"""Pieces every page shares: presentation mode, the entity picker, the drawn graph with its legend,
fact table and downloads."""
from __future__ import annotations

import dataclasses
import threading
from urllib.parse import urlencode

import streamlit as st

from kb.render import graph as kb_graph, i18n
from kb import tabular
from kb.schema import LANGUAGES, schema
from kb.errors import SearchUnavailable
from kb.queries import NotFound
from kb.subgraph import Subgraph
from app_pages import cached

PRESENT_PARAM = "present"
PRESENT_KEY = "presentation"
LANGUAGE_PARAM = "lang"
LANGUAGE_KEY = "language"
LANGUAGE_NAMES = {"en": "EN", "de": "DE", "zh": "中文"}
# Explore is the app's default page, so its URL is the app's root: "./" from any page's URL.
EXPLORE_URL = "./"
# What a click in another page's drawing carries to Explore: how the app is shown and the year asked for.
CARRIED_TO_EXPLORE = (PRESENT_PARAM, LANGUAGE_PARAM, "year", "undated")
# The app's drawings load vis-network from Streamlit's static folder (server.enableStaticServing;
# app.py publishes it there), relative to the page as EXPLORE_URL is.
VIS_LIBRARY_URL = f"app/static/{kb_graph.VIS_FILE_NAME}"


def presentation_mode() -> bool:
    """Whether presentation mode is on; the URL's ?present=1 seeds it, the toggle then owns it."""
    if PRESENT_KEY not in st.session_state:
        st.session_state[PRESENT_KEY] = st.query_params.get(PRESENT_PARAM) == "1"
    return st.session_state[PRESENT_KEY]


def presentation_toggle() -> None:
    """The toggle, and the URL kept in step with it (a page switch drops query parameters)."""
    st.toggle(t("presentation"), key=PRESENT_KEY, help=t("presentation_help"))
    if st.session_state[PRESENT_KEY]:
        st.query_params[PRESENT_PARAM] = "1"
    else:
        st.query_params.pop(PRESENT_PARAM, None)


def language() -> str:
    """The language shown (en, de, zh); the URL's ?lang= seeds it, the switch then owns it."""
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = i18n.language_of(st.query_params.get(LANGUAGE_PARAM))
    return st.session_state[LANGUAGE_KEY]


def t(key: str, **values) -> str:
    """The UI string called key (kb/render/strings.yaml) in the language shown."""
    return i18n.text(key, language(), **values)


def language_switch() -> None:
    """en · de · 中文, and the URL kept in step (the default language leaves no parameter)."""
    st.radio(t("language"), LANGUAGES, key=LANGUAGE_KEY, format_func=LANGUAGE_NAMES.get, horizontal=True,
             label_visibility="collapsed")
    if st.session_state[LANGUAGE_KEY] == i18n.DEFAULT:
        st.query_params.pop(LANGUAGE_PARAM, None)
    else:
        st.query_params[LANGUAGE_PARAM] = st.session_state[LANGUAGE_KEY]


def app_switches(graph_first: bool, hidden: bool = False) -> None:
    """Presentation mode and the language, side by side; graph_first (Explore in presentation mode): in one
    folded panel that Explore then fills with its search and controls (graph_first_panel); hidden: none.

    Called from app.py on every run: a widget's identity includes the script that makes it, so the switches
    made by a page would be other widgets than those made by app.py, and lose their value on the way."""
    _this_run.panel = st.expander(t("controls_present"), expanded=False) if graph_first and not hidden else None
    if hidden:
        return
    if graph_first:
        st.html(PRESENT_STYLE)
    with _this_run.panel or st.container():
        with st.container(horizontal=True, vertical_alignment="center"):
            presentation_toggle()
            language_switch()


def graph_first_panel():
    """The folded panel app_switches made on this run for Explore in presentation mode, else None."""
    return getattr(_this_run, "panel", None)


# Each session's script runs in a thread of its own: what app.py hands to the page on this run.
_this_run = threading.local()
# Presentation mode on Explore is graph-first: Streamlit's header and paddings go, so the graph's frame
# starts just under the one folded panel of search and controls.
PRESENT_STYLE = """<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 0.4rem !important; }
[data-testid="stMainBlockContainer"] > div { gap: 0.4rem !important; }
</style>"""


def relation_label(name: str) -> str:
    """A relation type as controls and tables show it: its label in the language shown."""
    return schema().relation_label(name, language())


def entity_caption(name: str) -> str:
    return schema().entity_caption(name, language())


def pick_entity(label: str, key: str, deep_link_id: str | None = None) -> str | None:
    """A search box and its hits; the chosen entity's id (or the deep-linked id while nothing is typed)."""
    text = st.text_input(label, key=f"{key}-text", placeholder=t("search_placeholder"))
    if not text.strip():
        if deep_link_id:
            _show_linked(deep_link_id)
        return deep_link_id
    try:
        hits = cached.search(text)
    except SearchUnavailable as error:
        st.warning(f"Search is not available: {error}.")
        return None
    if not hits:
        st.info(t("nothing_found", text=text))
        return None
    choice = st.selectbox(f"{label}: {t('matches')}", hits, format_func=lambda hit: hit.label(), key=f"{key}-hit")
    return choice.id


def _show_linked(entity_id: str) -> None:
    """Name the entity a link chose, so the empty box does not hide what is shown."""
    try:
        node = cached.entity_node(entity_id)
    except NotFound:
        return  # the page itself says that the id is unknown
    country = f", {node.country}" if node.country else ""
    st.caption(t("from_link", name=node.shown_name(language()), type=entity_caption(node.type), country=country))


def legend(graph: Subgraph | None = None) -> None:
    """The legend of what a drawing shows (all types without a graph), in the language shown."""
    st.markdown(kb_graph.legend_html(kb_graph.legend(language(), graph), language()), unsafe_allow_html=True)


def explore_link(on_explore: bool) -> str:
    """Explore's URL for an entity, but for the id's value: on Explore every query parameter of this view
    (depth, filters, year ...) but the id, elsewhere only those named in CARRIED_TO_EXPLORE."""
    kept = [(key, value) for key in st.query_params if key != "id" and (on_explore or key in CARRIED_TO_EXPLORE)
            for value in st.query_params.get_all(key)]
    return f"{EXPLORE_URL}?{urlencode([*kept, ('id', '')])}"


def draw(graph: Subgraph, name: str, on_explore: bool = False, expansions: str | None = None,
         under=None) -> str:
    """Draw the graph (with the cap's note and the legend), a click on a node opening Explore of it;
    returns its standalone HTML, without the clicks (a file opened alone has no Explore to open).
    expansions: the view's name, where a double-click on a node expands it (app_pages/expand.py); under:
    called in the legend's place, where the expansions' fragment shows the legend with what they add."""
    presentation = presentation_mode()
    if graph.note and not presentation:
        st.info(graph.note)
    drawn = kb_graph.drawing(graph, presentation=presentation, source_titles=titles_of(graph.source_ids()),
                             language=language())
    page = drawn.page()
    # Where a double-click expands, a click waits to see whether a second press follows.
    expanding = {"extras": (kb_graph.expansion_script(expansions),),
                 "double_click_wait_ms": kb_graph.DOUBLE_CLICK_WAIT_MS} if expansions else {}
    st.iframe(framed(drawn, explore_link(on_explore), **expanding), height=int(drawn.height.removesuffix("px")) + 20)
    if graph.note and presentation:
        st.info(graph.note)  # under the graph: in presentation mode the graph comes first
    if under:
        under()
    else:
        legend(graph)
    st.download_button(t("download_graph"), page, file_name=f"{name}.html",
                       mime="text/html", key=f"{name}-html", on_click="ignore")
    return page


def framed(drawn: kb_graph.Drawing, link: str, extras: tuple = (), double_click_wait_ms: int = 0) -> str:
    """A drawing's page as the app's frame shows it: vis-network loaded from the app, and a click on a
    node opening link + its id. Downloads keep the page that holds the library and opens nothing."""
    return drawn.page(vis_url=VIS_LIBRARY_URL, extras=(*extras, kb_graph.node_link_script(link, double_click_wait_ms)),
                      with_legend=False)


def facts_table(graph: Subgraph, name: str) -> None:
    """The subgraph as facts (subject, relation, object, since, until, sources), with CSV and JSON downloads."""
    rows = [{t(f"col_{column}"): value for column, value in row.items()} for row in graph.facts(language())]
    st.dataframe(rows, hide_index=True)
    left, right = st.columns(2)
    left.download_button(t("facts_csv"), tabular.to_csv(list(rows[0]) if rows else [], [list(r.values()) for r in rows]),
                         file_name=f"{name}.csv", mime="text/csv", key=f"{name}-csv", on_click="ignore")
    right.download_button(t("subgraph_json"), subgraph_json(graph), file_name=f"{name}.json",
                          mime="application/json", key=f"{name}-json", on_click="ignore")


def table(columns: list, rows: list) -> list[dict]:
    return tabular.records(columns, [map(tabular.cell, row) for row in rows])


def subgraph_json(graph: Subgraph) -> str:
    return tabular.to_json({"nodes": [dataclasses.asdict(n) for n in graph.nodes.values()],
                    "edges": [dataclasses.asdict(e) for e in graph.edges.values()], "truncated": graph.truncated})


def titles_of(source_ids) -> dict:
    """Source id -> citation text, for these sources only."""
    return cached.source_titles(tuple(sorted(set(source_ids))))


def sources_text(source_ids, titles: dict) -> str:
    """The cited sources by title (titles from titles_of, asked once for a whole view)."""
    return "; ".join(titles.get(sid, sid) for sid in source_ids or []) or "none recorded"
