"""Paths: the shortest paths (up to 6 hops) between two entities, drawn and listed hop by hop."""
import streamlit as st

from kb.queries import MAX_PATH_HOPS, NotFound, paths_subgraph
from kb.subgraph import blank
from app_pages import add_to_story, cached, widgets, years

t = widgets.t
st.title(t("page_paths"))
left, right = st.columns(2)
with left:
    start_id = widgets.pick_entity("From", "path-from", st.query_params.get("from"))
with right:
    end_id = widgets.pick_entity("To", "path-to", st.query_params.get("to"))
as_of = years.year_control("paths")
if not (start_id and end_id):
    st.caption("Choose two entities: every shortest path between them is drawn and listed.")
    st.stop()

st.query_params["from"], st.query_params["to"] = start_id, end_id
try:
    paths = cached.shortest_paths(start_id, end_id, as_of.year, as_of.undated)
except NotFound as error:
    st.warning(str(error))
    st.stop()
if not paths:
    st.info(f"No path of at most {MAX_PATH_HOPS} hops joins these two entities ({as_of.describe()}).")
    st.stop()

st.subheader(f"{len(paths)} shortest path(s) of {len(paths[0].edges)} hop(s)")
st.caption(f"Over {as_of.describe()}.")
drawn = paths_subgraph(paths)
widgets.draw(drawn, f"paths-{start_id}-{end_id}")
titles = widgets.titles_of(drawn.source_ids())
for number, path in enumerate(paths, start=1):
    names = {node.id: node.shown_name(widgets.language()) for node in path.nodes}
    st.markdown(f"**Path {number}:** " + " → ".join(names[node.id] for node in path.nodes))
    st.dataframe([{t("col_hop"): hop, t("col_from"): names[edge.start], t("col_relation"): widgets.relation_label(edge.type),
                   t("col_to"): names[edge.end], t("col_since"): blank(edge.properties.get("since")),
                   t("col_until"): blank(edge.properties.get("until")),
                   t("col_sources"): widgets.sources_text(edge.sources, titles)}
                  for hop, edge in enumerate(path.edges, start=1)], hide_index=True)
add_to_story.offer({"kind": "paths", "start": start_id, "end": end_id, "year": as_of.year, "undated": as_of.undated})
