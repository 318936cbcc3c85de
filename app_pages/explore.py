"""Explore: search an entity, draw its neighbourhood (depth, type filters, node cap), list its facts."""
import streamlit as st

from kb import config
from kb.queries import NotFound
from kb.schema import schema
from app_pages import add_to_story, cached, expand, widgets, years

t = widgets.t
DEPTHS = (1, 2, 3)
CAP_LIMITS = (5, 2000)


def linked(name: str, allowed) -> list:
    """A filter's values in the link, those the schema knows (a stale link may name a type no longer there)."""
    return [value for value in st.query_params.get_all(name) if value in allowed]


def linked_cap() -> int:
    """The link's node cap if the control accepts it, otherwise the setting's."""
    cap = st.query_params.get("cap", "")
    return int(cap) if cap.isdigit() and CAP_LIMITS[0] <= int(cap) <= CAP_LIMITS[1] else config.setting("node_cap")


# Presentation mode is graph-first: search and controls join the app's switches in one folded panel above
# the graph. Otherwise the title, the search, the controls in their own expander, the year control.
panel = widgets.graph_first_panel()
present = panel is not None
if not present:
    st.title(t("page_explore"))
    panel = st.container()
with panel:
    entity_id = widgets.pick_entity(t("search_entity"), "explore", st.query_params.get("id"))
    # The link's depth, filters and cap seed the controls; the controls then own them (and write them back
    # below), so each view is a URL: a click in the drawing opens another with the same options.
    linked_depth = st.query_params.get("depth")
    with panel if present else st.expander(t("controls"), expanded=False):
        depth = st.segmented_control(t("depth"), DEPTHS, key="explore-depth",
                                     default=int(linked_depth) if linked_depth in map(str, DEPTHS) else 1) or 1
        entity_types = st.multiselect(t("only_entity_types"), sorted(schema().entities), key="explore-types",
                                      default=linked("types", schema().entities), format_func=widgets.entity_caption)
        relation_types = st.multiselect(t("only_relation_types"), sorted(schema().relations), key="explore-relations",
                                        default=linked("relations", schema().relations),
                                        format_func=widgets.relation_label)
        node_cap = st.number_input(t("node_cap"), min_value=CAP_LIMITS[0], max_value=CAP_LIMITS[1],
                                   value=linked_cap(), step=25, key="explore-cap")
    as_of = years.year_control("explore")

if not entity_id:
    st.caption(t("search_hint"))
    st.stop()

st.query_params["id"] = entity_id
if depth == 1:
    st.query_params.pop("depth", None)
else:
    st.query_params["depth"] = str(depth)
for name, chosen in (("types", entity_types), ("relations", relation_types)):
    if chosen:
        st.query_params[name] = chosen  # one parameter per value
    else:
        st.query_params.pop(name, None)
if node_cap == config.setting("node_cap"):
    st.query_params.pop("cap", None)
else:
    st.query_params["cap"] = str(node_cap)
try:
    graph = cached.neighbourhood(entity_id, int(depth), tuple(entity_types), tuple(relation_types), int(node_cap),
                                 as_of.year, as_of.undated)
except NotFound as error:
    st.warning(str(error))
    st.stop()

centre = graph.nodes[entity_id]
name = centre.shown_name(widgets.language())


def heading() -> None:
    st.subheader(t("explore_heading", name=name, entities=len(graph.nodes), facts=len(graph.edges), depth=depth))
    st.caption(t("drawn", what=as_of.describe(widgets.language())))
    st.page_link("app_pages/entity.py", label=t("open_entity_page", name=name),
                 query_params={"id": entity_id})


if not present:
    heading()
view = f"neighbourhood-{entity_id}"
# Expansions belong to one drawing: of this entity, with these options, in this language and mode.
drawing_key = repr((entity_id, depth, entity_types, relation_types, node_cap, as_of.year, as_of.undated,
                    widgets.language(), widgets.presentation_mode()))
# A double-click expands a node with the view's own filters, cap and year; the expansions' fragment stands
# under the drawing, its legend growing with them.
widgets.draw(graph, view, on_explore=True, expansions=drawing_key, under=lambda: expand.offer(
    drawing_key, graph, lambda node, drawn: cached.expansion(node, drawn, tuple(entity_types), tuple(relation_types),
                                                             int(node_cap), as_of.year, as_of.undated)))
if present:
    heading()
widgets.facts_table(graph, view)
add_to_story.offer({"kind": "explore", "id": entity_id, "depth": int(depth), "entity_types": tuple(entity_types),
                    "relation_types": tuple(relation_types), "year": as_of.year, "undated": as_of.undated})
