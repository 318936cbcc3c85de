"""The app's reads of the knowledge base: the driver held by Streamlit, results cached briefly."""
from __future__ import annotations

from pathlib import Path

import neo4j
import streamlit as st

from kb import changes as kb_changes, cypher, db, queries, search as kb_search
from kb.errors import RunawayQuery
from kb.ops import runaway
from kb.render import graph as kb_graph

# Short enough that a load in another terminal shows up within a minute.
TTL = 60


@st.cache_resource(show_spinner=False)
def driver() -> neo4j.Driver:
    """The process's one driver (kb.db keeps it): created once, shared by every session and rerun."""
    return db.driver()


@st.cache_resource(show_spinner=False)
def vis_library_in(folder: str) -> Path:
    """vis-network written to the app's static folder once per process (kb.render.graph.publish_vis_library)."""
    return kb_graph.publish_vis_library(Path(folder))


@st.cache_data(ttl=TTL, show_spinner=False)
def search(text: str) -> list:
    return kb_search.search(text)


@st.cache_data(ttl=TTL, show_spinner=False)
def neighbourhood(entity_id: str, depth: int, entity_types: tuple, relation_types: tuple, node_cap: int,
                  year: int | None = None, undated: bool = True):
    return queries.neighbourhood(entity_id, depth, list(entity_types), list(relation_types), node_cap, year, undated)


@st.cache_data(ttl=TTL, show_spinner=False)
def expansion(entity_id: str, drawn: tuple, entity_types: tuple, relation_types: tuple, node_cap: int,
              year: int | None = None, undated: bool = True):
    return queries.expansion(entity_id, drawn, list(entity_types), list(relation_types), node_cap, year, undated)


@st.cache_data(ttl=TTL, show_spinner=False)
def entity_node(entity_id: str):
    return queries.entity_node(entity_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def entity(entity_id: str, offset: int):
    return queries.entity(entity_id, offset=offset)


@st.cache_data(ttl=TTL, show_spinner=False)
def shortest_paths(start_id: str, end_id: str, year: int | None = None, undated: bool = True) -> list:
    return queries.shortest_paths(start_id, end_id, year=year, undated=undated)


# The Overview's figures read the whole graph (a few seconds at a million relations), so they are
# kept until the database commits anything (the version argument, kb.db.graph_version) instead of
# for TTL: a load shows at once, and no visitor pays for them again while nothing changes.
OVERVIEW_VERSIONS = 2


@st.cache_data(max_entries=OVERVIEW_VERSIONS, show_spinner=False)
def counts(version: str) -> dict:
    return queries.counts()


@st.cache_data(max_entries=OVERVIEW_VERSIONS, show_spinner=False)
def sources(version: str) -> list:
    return queries.sources()


@st.cache_data(max_entries=OVERVIEW_VERSIONS, show_spinner=False)
def documents(version: str) -> list:
    return queries.documents()


@st.cache_data(max_entries=OVERVIEW_VERSIONS, show_spinner=False)
def dated_facts_per_year(version: str) -> dict:
    return queries.dated_facts_per_year()


@st.cache_data(ttl=TTL, show_spinner=False)
def ties_in_force(year: int, undated: bool) -> dict:
    return queries.ties_in_force(year, undated)


@st.cache_data(ttl=TTL, show_spinner=False)
def changes(entity_id: str, start: int, end: int, depth: int):
    return kb_changes.changes(entity_id, start, end, depth)


@st.cache_data(ttl=TTL, show_spinner=False)
def source_titles(ids: tuple) -> dict:
    """Source id -> 'title (publisher, date)' for the sources a view cites."""
    return queries.source_titles(ids)


@st.cache_data(ttl=TTL, show_spinner=False)
def run_read_only(text: str, params: dict):
    try:
        return cypher.run_read_only(text, params)
    except RunawayQuery as error:
        # The restart (or why there is none) is announced on the page by the error shown.
        raise runaway.end(error) from None
