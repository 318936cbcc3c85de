"""Map: Germany and China side by side, the places that carry coordinates and the ties between them as
arcs coloured by relation type; filters by relation type and the year control; a click on a place
opens Explore of it."""
import streamlit as st

from kb import geo
from kb.render import map as kb_map
from app_pages import add_to_story, cached, widgets, years

# The map is twice as wide as high: about the main column's width beside the sidebar, or without it.
MAP_HEIGHT, PRESENTATION_MAP_HEIGHT = 540, 700


@st.cache_data(ttl=cached.TTL, show_spinner=False)
def map_data(relation_types: tuple, year: int | None, undated: bool, language: str) -> geo.MapData:
    return geo.map_data(list(relation_types), year, undated, language)


t = widgets.t
language = widgets.language()
st.title(t("page_map"))
drawable = geo.drawable_relations()
relation_types = st.multiselect(t("only_relation_types"), drawable, key="map-relations",
                                default=[value for value in st.query_params.get_all("relations") if value in drawable],
                                format_func=widgets.relation_label, help=t("map_relations_help"),
                                placeholder=t("choose_options"))
as_of = years.year_control("map")
if relation_types:
    st.query_params["relations"] = relation_types  # one parameter per value, so the view is a link
else:
    st.query_params.pop("relations", None)

data = map_data(tuple(relation_types), as_of.year, as_of.undated, language)
drawn = sum(arc.count for arc in data.arcs)
tied = sum(1 for count in data.tie_counts().values() if count)
placed = (t("map_places_all", places=len(data.places), tied=tied) if data.all_places else
          t("map_places_some", most=f"{geo.MAX_PLACES:,}", tied=tied))
st.caption(t("map_drawn", what=as_of.describe(language), placed=placed, ties=drawn, arcs=len(data.arcs)))
if data.arc_count > len(data.arcs):
    st.caption(t("map_arcs_capped", drawn=len(data.arcs), arcs=data.arc_count, ties=data.tie_count))
if data.capped:
    st.warning(t("map_ties_capped", most=f"{geo.MAX_TIES:,}"))
if data.unplaced:
    st.caption(t("map_unplaced", count=data.unplaced))
if not data.places:
    st.info(t("map_no_places"))
    st.stop()
height = PRESENTATION_MAP_HEIGHT if widgets.presentation_mode() else MAP_HEIGHT
st.iframe(kb_map.page(data, link=widgets.explore_link(on_explore=False), height=f"{height}px", language=language),
          height=height + 10)
st.dataframe([{t("col_from"): data.places[arc.start].shown_name(language), t("col_relation"): widgets.relation_label(arc.type),
               t("col_to"): data.places[arc.end].shown_name(language), t("col_ties"): arc.count,
               t("col_which"): "; ".join(arc.ties)}
              for arc in data.arcs], hide_index=True)
add_to_story.offer({"kind": "map", "relation_types": tuple(relation_types), "year": as_of.year,
                    "undated": as_of.undated})
