"""Explore: search an entity, draw its neighbourhood (depth, type filters, node cap), list its facts."""
import streamlit as st

from kb import config
from kb.queries import NotFound
from kb.schema import schema
from app_pages import cached, widgets

st.title("Explore")
entity_id = widgets.pick_entity("Search an entity", "explore", st.query_params.get("id"))

DEPTHS = (1, 2, 3)
# The link's depth seeds the control; the control then owns it (and writes it back below).
linked_depth = st.query_params.get("depth")
with st.expander("Depth, filters and node cap", expanded=False):
    depth = st.segmented_control("Depth", DEPTHS, key="explore-depth",
                                 default=int(linked_depth) if linked_depth in map(str, DEPTHS) else 1) or 1
    entity_types = st.multiselect("Only these entity types", sorted(schema().entities), key="explore-types")
    relation_types = st.multiselect("Only these relation types", sorted(schema().relations), key="explore-relations")
    node_cap = st.number_input("Node cap", min_value=5, max_value=2000, value=config.setting("node_cap"), step=25,
                               key="explore-cap")

if not entity_id:
    st.caption("Type a name in any spelling, then pick the entity you mean.")
    st.stop()

st.query_params["id"] = entity_id
if depth == 1:
    st.query_params.pop("depth", None)
else:
    st.query_params["depth"] = str(depth)
try:
    graph = cached.neighbourhood(entity_id, int(depth), tuple(entity_types), tuple(relation_types), int(node_cap))
except NotFound as error:
    st.warning(str(error))
    st.stop()

centre = graph.nodes[entity_id]
st.subheader(f"{centre.name} · {len(graph.nodes)} entities, {len(graph.edges)} facts within {depth} hop(s)")
st.page_link("app_pages/entity.py", label=f"Open the entity page of {centre.name}", query_params={"id": entity_id})
widgets.draw(graph, f"neighbourhood-{entity_id}")
widgets.facts_table(graph, f"neighbourhood-{entity_id}")
