"""The app's reads of the knowledge base: the driver held by Streamlit, results cached briefly."""
from __future__ import annotations

import neo4j
import streamlit as st

from kb import cypher, db, queries, search as kb_search

# Short enough that a load in another terminal shows up within a minute.
TTL = 60


@st.cache_resource(show_spinner=False)
def driver() -> neo4j.Driver:
    """The process's one driver (kb.db keeps it): created once, shared by every session and rerun."""
    return db.driver()


@st.cache_data(ttl=TTL, show_spinner=False)
def search(text: str) -> list:
    return kb_search.search(text)


@st.cache_data(ttl=TTL, show_spinner=False)
def neighbourhood(entity_id: str, depth: int, entity_types: tuple, relation_types: tuple, node_cap: int):
    return queries.neighbourhood(entity_id, depth, list(entity_types), list(relation_types), node_cap)


@st.cache_data(ttl=TTL, show_spinner=False)
def entity_node(entity_id: str):
    return queries.entity_node(entity_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def entity(entity_id: str, offset: int):
    return queries.entity(entity_id, offset=offset)


@st.cache_data(ttl=TTL, show_spinner=False)
def shortest_paths(start_id: str, end_id: str) -> list:
    return queries.shortest_paths(start_id, end_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def counts() -> dict:
    return queries.counts()


@st.cache_data(ttl=TTL, show_spinner=False)
def sources() -> list:
    return queries.sources()


@st.cache_data(ttl=TTL, show_spinner=False)
def documents() -> list:
    return queries.documents()


@st.cache_data(ttl=TTL, show_spinner=False)
def dated_facts_per_year() -> dict:
    return queries.dated_facts_per_year()


@st.cache_data(ttl=TTL, show_spinner=False)
def source_titles(ids: tuple) -> dict:
    """Source id -> 'title (publisher, date)' for the sources a view cites."""
    return queries.source_titles(ids)


@st.cache_data(ttl=TTL, show_spinner=False)
def run_read_only(text: str, params: dict):
    return cypher.run_read_only(text, params)
