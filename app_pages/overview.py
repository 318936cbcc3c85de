"""Overview: counts by entity and relation type, the sources and how many facts each supports,
dated facts per year."""
import streamlit as st

from app_pages import cached, widgets, years
from kb import db


def rows(counts: dict, key: str, value: str) -> list[dict]:
    return [{key: k, value: v} for k, v in counts.items()]


t = widgets.t
st.title(t("page_overview"))
as_of = years.year_control("overview")
version = db.graph_version()
counts = cached.counts(version)
left, right = st.columns(2)
with left:
    st.subheader(t("overview_entities"))
    st.bar_chart(rows({widgets.entity_caption(name): n for name, n in counts["entities"].items()},
                      t("col_type"), t("col_entities")), x=t("col_type"), y=t("col_entities"), horizontal=True)
with right:
    if as_of.year is None:
        st.subheader(t("overview_relations"))
        relations = counts["relations"]
    else:
        st.subheader(t("overview_relations_in_force", year=as_of.year))
        st.caption(t("overview_in_force_note", what=as_of.describe(widgets.language())))
        relations = cached.ties_in_force(as_of.year, as_of.undated)
    labelled = {widgets.relation_label(name): n for name, n in relations.items()}
    st.bar_chart(rows(labelled, t("col_type"), t("col_relations")), x=t("col_type"), y=t("col_relations"),
                 horizontal=True)

st.subheader(t("overview_sources"))
st.dataframe([{"source": s["title"], "publisher": s["publisher"], "url": s["url"], "date": s["date"],
               "accessed": s["accessed"], "kind": s["kind"], "facts": s["facts"], "entities": s["entities"],
               "id": s["id"]} for s in cached.sources(version)],
             column_config={"url": st.column_config.LinkColumn(t("col_url")), "facts": t("col_facts_citing"),
                            "entities": t("col_entities_citing"),
                            **{name: t(f"col_{name}") for name in ("source", "publisher", "date", "accessed", "kind", "id")}},
             hide_index=True)

st.subheader(t("overview_documents"))
documents = cached.documents(version)
if documents:
    st.dataframe([{"document": d["name"], "date": d["date"], "entities named": d["entities"],
                   "mentions": d["mentions"], "id": d["id"]} for d in documents], hide_index=True,
                 column_config={"entities named": t("col_entities_named"),
                                **{name: t(f"col_{name}") for name in ("document", "date", "mentions", "id")}})
else:
    st.caption(t("overview_no_documents"))

st.subheader(t("overview_per_year"))
per_year = cached.dated_facts_per_year(version)
if per_year:
    st.bar_chart(rows({str(year): n for year, n in per_year.items()}, t("col_year"), t("col_facts")),
                 x=t("col_year"), y=t("col_facts"))
else:
    st.caption(t("overview_no_dates"))
