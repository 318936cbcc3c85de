"""Entity: every property, alias and external id; every relation in and out with sources and note;
a timeline of its dated facts."""
import streamlit as st

from kb.changes import year_of
from kb.queries import ENTITY_PAGE_SIZE, NotFound
from kb.schema import schema
from kb.subgraph import blank
from app_pages import cached, facts as fact_pages, widgets

PROPERTIES_SHOWN_ELSEWHERE = ("name", "aliases", "sources")

t = widgets.t
st.title(t("page_entity"))
entity_id = widgets.pick_entity(t("search_entity"), "entity", st.query_params.get("id"))
if not entity_id:
    st.caption(t("entity_hint"))
    st.stop()

st.query_params["id"] = entity_id
# One pager per entity, so another entity opens on its first page.
page_key = f"entity-page-{entity_id}"
page = st.session_state.get(page_key, 1)
try:
    view = cached.entity(entity_id, (page - 1) * ENTITY_PAGE_SIZE)
except NotFound as error:
    st.warning(str(error))
    st.stop()

node = view.node
language = widgets.language()
st.header(node.shown_name(language))
st.caption(f"{widgets.entity_caption(node.type)} · {node.country or t('entity_no_country')} · id `{node.id}`")
st.page_link("app_pages/explore.py", label=t("entity_explore", name=node.shown_name(language)), query_params={"id": node.id})
if node.properties.get("aliases"):
    st.markdown(t("entity_aliases") + " " + ", ".join(node.properties["aliases"]))
external = schema().links(node.type, node.properties)
if external:
    st.markdown(t("entity_records") + " " + " · ".join(f"[{name} {value}]({url})" for name, value, url in external))
st.dataframe([{t("col_property"): key, t("col_value"): str(value)} for key, value in sorted(node.properties.items())
              if key not in PROPERTIES_SHOWN_ELSEWHERE], hide_index=True)
titles = widgets.titles_of(view.source_ids())
st.markdown(t("entity_sources") + " " + widgets.sources_text(node.properties.get("sources"), titles))

st.subheader(t("entity_relations"))
if view.truncated:
    # A hub has thousands of ties: they come a page at a time rather than all at once.
    pages = -(-view.total // ENTITY_PAGE_SIZE)
    st.info(t("entity_paged", shown=f"{view.shown:,}", total=f"{view.total:,}", first=f"{view.offset + 1:,}",
              last=f"{view.offset + view.shown:,}"))
    st.number_input(t("entity_page_of", pages=f"{pages:,}"), min_value=1, max_value=pages, key=page_key)
rows = []
for direction, pairs in ((t("direction_out"), view.outgoing), (t("direction_in"), view.incoming)):
    for edge, other in pairs:
        rows.append({t("col_direction"): direction, t("col_relation"): widgets.relation_label(edge.type),
                     t("col_other"): other.shown_name(language), t("col_other_type"): widgets.entity_caption(other.type),
                     t("col_since"): blank(edge.properties.get("since")), t("col_until"): blank(edge.properties.get("until")),
                     t("col_note"): blank(edge.properties.get("note")),
                     t("col_sources"): widgets.sources_text(edge.sources, titles)})
st.dataframe(rows, hide_index=True)
fact_pages.retract_form(node.id, view.outgoing + view.incoming)
if st.toggle(t("show_retracted"), key=f"show-retracted-{node.id}"):
    fact_pages.retracted_list(node.id)

st.subheader(t("entity_timeline"))
if view.truncated:
    st.caption(t("entity_timeline_note"))
per_year = {}
for edge, _ in view.outgoing + view.incoming:
    for key, change in (("since", t("change_began")), ("until", t("change_ended"))):
        year = year_of(edge.properties.get(key))
        if year is not None:
            per_year[year, change] = per_year.get((year, change), 0) + 1
if per_year:
    st.bar_chart([{"year": str(year), t("col_change"): change, "ties": n} for (year, change), n in sorted(per_year.items())],
                 x="year", y="ties", color=t("col_change"), x_label=t("col_year"), y_label=t("timeline_ties"))
events = []
if node.properties.get("date"):
    events.append((str(node.properties["date"]), f"{node.shown_name(language)} ({node.type.lower()})"))
for edge, other in view.outgoing + view.incoming:
    subject, obj = (node, other) if edge.start == node.id else (other, node)
    for key, verb in (("since", t("event_from")), ("until", t("event_until"))):
        if edge.properties.get(key):
            events.append((str(edge.properties[key]), f"{subject.shown_name(language)} {widgets.relation_label(edge.type)} "
                                                      f"{obj.shown_name(language)} ({verb})"))
if events:
    st.markdown("\n".join(f"- **{date}** · {text}" for date, text in sorted(events)))
else:
    st.caption(t("entity_no_dates"))
