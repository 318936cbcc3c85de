"""Changes: what changed around an entity between two years, the ties that began and those that ended,
drawn and listed with their sources. Deep link: ?id=city-foshan&from=2015&to=2019&depth=1."""
import streamlit as st

from kb.queries import NotFound
from app_pages import cached, widgets, years

DEPTHS = (1, 2, 3)
DEFAULT_RANGE = (2015, 2019)

t = widgets.t
st.title(t("page_changes"))
entity_id = widgets.pick_entity(t("changes_around"), "changes", st.query_params.get("id"))
linked_depth = st.query_params.get("depth")
left, middle, right = st.columns(3)
start = left.number_input(t("changes_from"), min_value=years.FIRST_YEAR, max_value=years.LAST_YEAR, step=1,
                          value=years.linked_year("from") or DEFAULT_RANGE[0], key="changes-from")
end = middle.number_input(t("changes_to"), min_value=years.FIRST_YEAR, max_value=years.LAST_YEAR, step=1,
                          value=years.linked_year("to") or DEFAULT_RANGE[1], key="changes-to")
with right:
    depth = st.segmented_control(t("depth"), DEPTHS, key="changes-depth",
                                 default=int(linked_depth) if linked_depth in map(str, DEPTHS) else 1) or 1
if not entity_id:
    st.caption(t("changes_hint"))
    st.stop()
if start >= end:
    st.warning(t("changes_order"))
    st.stop()

st.query_params.update({"id": entity_id, "from": str(int(start)), "to": str(int(end))})
if depth == 1:
    st.query_params.pop("depth", None)
else:
    st.query_params["depth"] = str(depth)
try:
    found = cached.changes(entity_id, int(start), int(end), int(depth))
except NotFound as error:
    st.warning(str(error))
    st.stop()

centre = found.graph.nodes[entity_id]
st.subheader(t("changes_heading", name=centre.shown_name(widgets.language()), began=len(found.began),
               ended=len(found.ended), start=found.start, end=found.end, depth=depth))
st.caption(t("changes_rule", start=found.start, end=found.end))
if found.truncated:
    st.info(t("changes_cut"))
if not found.began and not found.ended:
    st.info(t("changes_none"))
    st.stop()
widgets.draw(found.graph, f"changes-{entity_id}-{found.start}-{found.end}")
titles = widgets.titles_of(found.graph.source_ids())
st.dataframe([{**row, "sources": widgets.sources_text(row["sources"], titles)} for row in found.rows(widgets.language())],
             hide_index=True)
