"""Analysis: brokers, communities, degree and k-core on the whole graph or a filtered part, as top-N
tables and as a drawing of the top entities coloured by community and sized by the measure."""
import streamlit as st

from kb import analysis
from kb.render import citations
from kb.render import graph as kb_graph
from kb.schema import schema
from app_pages import widgets

# The measures offered, in this order; each one's name in strings.yaml is measure_<name>.
MEASURES = ("brokerage", "betweenness", "communities", "degree", "kcore")
# Every firm's HOME_COUNTRY tie makes China and Germany the brokers of everything; left out by default.
DEFAULT_LEFT_OUT = ("Country", schema().source_type)

t = widgets.t


def measure_label(name: str) -> str:
    return t(f"measure_{name}")


st.title(t("page_analysis"))
linked = st.query_params.get("measure")
measure = st.selectbox(t("measure"), MEASURES, format_func=measure_label, key="analysis-measure",
                       index=MEASURES.index(linked) if linked in MEASURES else 0)
st.query_params["measure"] = measure
with st.expander(t("analysis_filters"), expanded=False):
    entity_types = st.multiselect(t("entity_types"), sorted(schema().entities), key="analysis-types",
                                  default=[name for name in sorted(schema().entities) if name not in DEFAULT_LEFT_OUT],
                                  format_func=widgets.entity_caption, placeholder=t("choose_options"))
    relation_types = st.multiselect(t("analysis_relation_types"), sorted(schema().relations),
                                    key="analysis-relations", format_func=widgets.relation_label,
                                    placeholder=t("choose_options"))
    as_of = st.toggle(t("analysis_as_of"), key="analysis-as-of")
    year = st.number_input(t("year"), min_value=1900, max_value=2100, value=2016, step=1, key="analysis-year",
                           disabled=not as_of)
    undated = st.checkbox(t("analysis_keep_undated"), value=True, key="analysis-undated", disabled=not as_of)
    top_n = st.number_input(t("analysis_top"), min_value=5, max_value=100, value=20, step=5,
                            key="analysis-top")
    sample = st.number_input(t("analysis_sample"), min_value=0, max_value=100_000,
                             value=0, step=50, key="analysis-sample",
                             help=t("analysis_sample_help", exact=analysis.EXACT_BETWEENNESS_LIMIT,
                                    sample=analysis.DEFAULT_SAMPLE))

filters = analysis.Filters(tuple(entity_types) if len(entity_types) < len(schema().entities) else (),
                           tuple(relation_types), int(year) if as_of else None, undated)
with st.spinner(t("analysis_computing")):
    result = analysis.scores(measure, filters, sample=int(sample) or None)
    communities = result if measure == "communities" else analysis.scores("communities", filters)
projection = result.projection
st.caption(f"Projection: {projection.describe()}; read in {projection.seconds:.1f} s. "
           "Direction is ignored and several ties between two entities count as one.")
if not projection.ids:
    st.info(t("analysis_no_tie"))
    st.stop()

st.subheader(measure_label(measure))
st.dataframe(analysis.table(result, int(top_n)), hide_index=True)
st.caption(f"Algorithm: {result.algorithm} Computed in {result.seconds:.1f} s.")

# The drawing: the top entities by the measure (by degree for communities), coloured by community.
by = result if measure != "communities" else analysis.scores("degree", filters)
style = analysis.node_style(by, communities, int(top_n))
chosen = list(style)
drawn = analysis.subgraph(chosen, filters)
presentation = widgets.presentation_mode()
drawing = kb_graph.drawing(drawn, presentation=presentation, source_titles=widgets.titles_of(drawn.source_ids()),
                           node_style=style, language=widgets.language())
png = citations.png_download(f"analysis-{measure}.png")
page = drawing.page(extras=(png,))
st.iframe(widgets.framed(drawing, widgets.explore_link(False), extras=(png,)),
          height=int(drawing.height.removesuffix("px")) + 20)
community_of = dict(zip(communities.projection.ids, communities.values))
shown = sorted({community_of.get(entity_id, len(analysis.COMMUNITY_COLOURS)) for entity_id in chosen})
swatches = " ".join(f'<span style="color:{analysis.community_colour(c)}">●</span>&nbsp;{c + 1}' for c in shown)
st.markdown(t("analysis_key", swatches=swatches, measure=by.measure), unsafe_allow_html=True)
st.caption(f"Drawn: the {len(chosen)} entities with the highest {by.measure} and the {len(drawn.edges)} ties among "
           f"them. Colours: {communities.algorithm}")
# For a paper: the PNG button sits in the drawing; the facts shown and their sources come as text.
sources = citations.cited_sources(s for edge in drawn.edges.values() for s in edge.sources)
html_column, markdown_column, bibtex_column = st.columns(3)
html_column.download_button(t("analysis_graph_html"), page, file_name=f"analysis-{measure}.html",
                            mime="text/html", key="analysis-html", on_click="ignore")
markdown_column.download_button(
    t("analysis_facts_markdown"),
    citations.facts_markdown(drawn, sources, t("analysis_facts_title", measure=measure_label(measure), count=len(chosen))),
    file_name=f"analysis-{measure}-facts.md", mime="text/markdown", key="analysis-md", on_click="ignore")
bibtex_column.download_button(t("analysis_sources_bibtex"), citations.bibtex(sources, list(citations.numbering(drawn))),
                              file_name=f"analysis-{measure}-sources.bib", mime="application/x-bibtex",
                              key="analysis-bib", on_click="ignore")
widgets.facts_table(drawn, f"analysis-{measure}")
