"""Overview: counts by entity and relation type, the sources and how many facts each supports,
dated facts per year."""
import streamlit as st

from app_pages import cached



def rows(counts: dict, key: str, value: str) -> list[dict]:
    return [{key: k, value: v} for k, v in counts.items()]


st.title("Overview")
counts = cached.counts()
left, right = st.columns(2)
with left:
    st.subheader("Entities by type")
    st.bar_chart(rows(counts["entities"], "type", "entities"), x="type", y="entities", horizontal=True)
with right:
    st.subheader("Relations by type")
    st.bar_chart(rows(counts["relations"], "type", "relations"), x="type", y="relations", horizontal=True)

st.subheader("Sources")
st.dataframe([{"source": s["title"], "publisher": s["publisher"], "date": s["date"], "kind": s["kind"],
               "facts": s["relations"], "entities": s["entities"], "id": s["id"]} for s in cached.sources()],
             hide_index=True)

st.subheader("Dated facts per year")
per_year = cached.dated_facts_per_year()
if per_year:
    st.bar_chart(rows({str(year): n for year, n in per_year.items()}, "year", "facts"), x="year", y="facts")
else:
    st.caption("No fact carries a date yet.")
