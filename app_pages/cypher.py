"""Cypher: a read-only query editor with saved queries; the query and its parameters live in the URL,
so a copied link reproduces the result."""
import re

import streamlit as st

from kb import tabular
from kb.errors import QueryRefused, QueryTimeout
from kb.saved_queries import SAVED_QUERIES, parameter_value
from app_pages import add_to_story, cached, widgets

QUERY_PARAM = "q"
RESERVED_PARAMS = (QUERY_PARAM, widgets.PRESENT_PARAM)
TEXT_KEY = "cypher-text"
# Only to know which parameter fields to show; the query text itself goes to Neo4j untouched.
PARAMETER_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def url_parameters() -> dict:
    """The query's parameters as the URL holds them: text."""
    return {name: st.query_params[name] for name in st.query_params if name not in RESERVED_PARAMS}


def load_saved() -> None:
    saved = st.session_state["cypher-saved"]
    if saved is not None:
        st.session_state[TEXT_KEY] = saved.cypher
        for name, default in saved.param_texts().items():
            st.session_state[f"cypher-param-{name}"] = default


t = widgets.t
st.title(t("page_cypher"))
st.caption(t("cypher_read_only"))
st.session_state.setdefault(TEXT_KEY, st.query_params.get(QUERY_PARAM, ""))
st.selectbox(t("cypher_saved"), [None, *SAVED_QUERIES], key="cypher-saved", on_change=load_saved,
             format_func=lambda saved: t("cypher_choose") if saved is None else saved.title)
text = st.text_area(t("cypher_query"), key=TEXT_KEY, height=150, placeholder="MATCH (c:City)-[r]-(x) RETURN c, r, x LIMIT 25")

from_url = url_parameters()
params = {}
for name in dict.fromkeys(PARAMETER_NAME.findall(text)):
    st.session_state.setdefault(f"cypher-param-{name}", from_url.get(name, ""))
    params[name] = st.text_input(f"${name}", key=f"cypher-param-{name}")

if st.button(t("cypher_run"), type="primary"):
    for name in url_parameters():
        del st.query_params[name]
    st.query_params.update({QUERY_PARAM: text, **params})

query = st.query_params.get(QUERY_PARAM)
if not query:
    st.stop()
try:
    # Read as `kb query --param` reads them, so `LIMIT $n` with n=5 gets a number.
    result = cached.run_read_only(query, {name: parameter_value(value) for name, value in url_parameters().items()})
except (QueryRefused, QueryTimeout) as error:
    st.error(str(error))
    st.stop()

if result.truncated:
    st.warning(result.notice())
st.caption(t("cypher_rows", count=len(result.rows)))
st.dataframe(widgets.table(result.columns, result.rows), hide_index=True)
left, right = st.columns(2)
left.download_button(t("rows_csv"), tabular.to_csv(result.columns, result.rows), file_name="query.csv",
                     mime="text/csv", on_click="ignore")
right.download_button(t("rows_json"), tabular.to_json(tabular.records(result.columns, result.rows)),
                      file_name="query.json", mime="application/json", on_click="ignore")
if result.graph.nodes:
    widgets.draw(result.graph, "query-graph")
add_to_story.offer(add_to_story.saved_query_step(query, url_parameters()))
