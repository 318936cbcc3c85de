"""Pieces every page shares: presentation mode, the entity picker, the drawn graph with its legend,
fact table and downloads."""
from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import streamlit as st

from kb.render import graph as kb_graph
from kb import tabular
from kb.errors import SearchUnavailable
from kb.queries import NotFound
from kb.subgraph import Subgraph
from app_pages import cached

PRESENT_PARAM = "present"
PRESENT_KEY = "presentation"
# Explore is the app's default page, so its URL is the app's root: "./" from any page's URL.
EXPLORE_URL = "./"
# What a click in another page's drawing carries to Explore: how the app is shown and the year asked for.
CARRIED_TO_EXPLORE = (PRESENT_PARAM, "year", "undated")
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
    st.toggle("Presentation mode", key=PRESENT_KEY, help="Wide graph, large labels, no sidebar.")
    if st.session_state[PRESENT_KEY]:
        st.query_params[PRESENT_PARAM] = "1"
    else:
        st.query_params.pop(PRESENT_PARAM, None)


def pick_entity(label: str, key: str, deep_link_id: str | None = None) -> str | None:
    """A search box and its hits; the chosen entity's id (or the deep-linked id while nothing is typed)."""
    text = st.text_input(label, key=f"{key}-text", placeholder="Any spelling: Goettingen, Göttingen, 哥廷根, Kuka ...")
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
        st.info(f"Nothing found for “{text}”. Try another spelling or a shorter name.")
        return None
    choice = st.selectbox(f"{label}: matches", hits, format_func=lambda hit: hit.label(), key=f"{key}-hit")
    return choice.id


def _show_linked(entity_id: str) -> None:
    """Name the entity a link chose, so the empty box does not hide what is shown."""
    try:
        node = cached.entity_node(entity_id)
    except NotFound:
        return  # the page itself says that the id is unknown
    country = f", {node.country}" if node.country else ""
    st.caption(f"From the link: {node.name} ({node.type}{country}). Type to choose another.")


def legend() -> None:
    shown = kb_graph.legend()
    types = " ".join(f'<span style="color:{color}">●</span>&nbsp;{name}' for name, color in shown["types"].items())
    shapes = {"diamond": "◆", "square": "■", "dot": "●"}
    countries = " ".join(f'<span style="color:{border}">{shapes.get(shape, "●")}</span>&nbsp;{label}'
                         for label, (shape, border) in shown["countries"].items())
    st.markdown(f"**Legend** · colour = type: {types}<br>shape and border = country: {countries}<br>"
                "line: solid = dated tie, dashed = undated tie (no `since`)", unsafe_allow_html=True)


def explore_link(on_explore: bool) -> str:
    """Explore's URL for an entity, but for the id's value: on Explore every query parameter of this view
    (depth, filters, year ...) but the id, elsewhere only those named in CARRIED_TO_EXPLORE."""
    kept = [(key, value) for key in st.query_params if key != "id" and (on_explore or key in CARRIED_TO_EXPLORE)
            for value in st.query_params.get_all(key)]
    return f"{EXPLORE_URL}?{urlencode([*kept, ('id', '')])}"


def draw(graph: Subgraph, name: str, on_explore: bool = False) -> str:
    """Draw the graph (with the cap's note and the legend), a click on a node opening Explore of it;
    returns its standalone HTML, without the clicks (a file opened alone has no Explore to open)."""
    presentation = presentation_mode()
    if graph.note:
        st.info(graph.note)
    drawn = kb_graph.drawing(graph, presentation=presentation, source_titles=titles_of(graph.source_ids()))
    page = drawn.page()
    st.iframe(framed(drawn, explore_link(on_explore)), height=int(drawn.height.removesuffix("px")) + 20)
    legend()
    st.download_button("Download this graph (HTML, works offline)", page, file_name=f"{name}.html",
                       mime="text/html", key=f"{name}-html", on_click="ignore")
    return page


def framed(drawn: kb_graph.Drawing, link: str, extras: tuple = ()) -> str:
    """A drawing's page as the app's frame shows it: vis-network loaded from the app, and a click on a
    node opening link + its id. Downloads keep the page that holds the library and opens nothing."""
    return drawn.page(vis_url=VIS_LIBRARY_URL, extras=(*extras, kb_graph.node_link_script(link)))


def facts_table(graph: Subgraph, name: str) -> None:
    """The subgraph as facts (subject, relation, object, since, until, sources), with CSV and JSON downloads."""
    rows = graph.facts()
    st.dataframe(rows, hide_index=True)
    left, right = st.columns(2)
    left.download_button("Facts as CSV", tabular.to_csv(list(rows[0]) if rows else [], [list(r.values()) for r in rows]),
                         file_name=f"{name}.csv", mime="text/csv", key=f"{name}-csv", on_click="ignore")
    right.download_button("Subgraph as JSON", subgraph_json(graph), file_name=f"{name}.json",
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
