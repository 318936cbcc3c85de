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
def map_data(relation_types: tuple, year: int | None, undated: bool) -> geo.MapData:
    return geo.map_data(list(relation_types), year, undated)


st.title("Map")
drawable = geo.drawable_relations()
relation_types = st.multiselect("Only these relation types", drawable, key="map-relations",
                                default=[value for value in st.query_params.get_all("relations") if value in drawable],
                                format_func=kb_map.relation_label,
                                help="Empty: every type of tie between places (and firms at their head office).")
as_of = years.year_control("map")
if relation_types:
    st.query_params["relations"] = relation_types  # one parameter per value, so the view is a link
else:
    st.query_params.pop("relations", None)

data = map_data(tuple(relation_types), as_of.year, as_of.undated)
drawn = sum(arc.count for arc in data.arcs)
tied = sum(1 for count in data.tie_counts().values() if count)
placed = (f"{len(data.places)} places carry coordinates, {tied} of them with ties drawn" if data.all_places else
          f"more than {geo.MAX_PLACES:,} places carry coordinates, the {tied} with ties drawn are shown")
st.caption(f"Drawn: {as_of.describe()}. {placed}: {drawn} ties as {len(data.arcs)} arcs. A firm is drawn at its "
           "head office.")
if data.arc_count > len(data.arcs):
    st.caption(f"The {len(data.arcs)} arcs with the most ties are drawn, of {data.arc_count} ({data.tie_count} ties).")
if data.capped:
    st.warning(f"Only the first {geo.MAX_TIES:,} ties found were read, so the counts are of those: choose relation "
               "types or a year to read fewer.")
if data.unplaced:
    st.caption(f"{data.unplaced} ties from a drawn place lead to an entity with no place on the map and are left out.")
if not data.places:
    st.info("No city or region carries coordinates (`lat`, `lon`) yet.")
    st.stop()
height = PRESENTATION_MAP_HEIGHT if widgets.presentation_mode() else MAP_HEIGHT
st.iframe(kb_map.page(data, link=widgets.explore_link(on_explore=False), height=f"{height}px"), height=height + 10)
st.dataframe([{"from": data.places[arc.start].name, "relation": kb_map.relation_label(arc.type),
               "to": data.places[arc.end].name, "ties": arc.count, "which": "; ".join(arc.ties)}
              for arc in data.arcs], hide_index=True)
add_to_story.offer({"kind": "map", "relation_types": tuple(relation_types), "year": as_of.year,
                    "undated": as_of.undated})
