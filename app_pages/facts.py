"""Facts by hand in the app: the "Add a fact" form, the retract action on a tie, and the retracted ties
shown on demand (loaders/facts.py does the work; a refusal is shown beside the field it names)."""
import datetime as dt

import streamlit as st

from kb import db
from kb.schema import schema
from loaders import facts
from app_pages import cached, widgets

t = widgets.t
# The form's fields, for an error to be shown beside the one it names (FactError.field).
SOURCE_FIELDS = {"source URL": "url", "url": "url", "source title": "title", "title": "title",
                 "publisher": "publisher", "read date": "read", "accessed": "read", "kind": "kind"}
TIE_FIELDS = {"from": "from", "to": "to", "relation type": "type", "source": "source", "sources": "source"}


def _refused(error: facts.FactError, beside: dict) -> None:
    """Show the error beside the field it names (beside: form field -> placeholder), else at the form's foot."""
    field = SOURCE_FIELDS.get(error.field) or TIE_FIELDS.get(error.field) or error.field
    beside.get(field, beside["submit"]).error(str(error))


def _wrote() -> None:
    """After a write: the cached reads are stale."""
    st.cache_data.clear()


def _tie_properties(relation_name: str, beside: dict) -> dict:
    """Inputs for the relation type's own properties (dates first); the values given, as text."""
    declared = schema().relation(relation_name).properties
    names = [n for n in ("since", "until") if n in declared] + \
        [n for n in declared if n not in ("since", "until", "sources")]
    values = {}
    for name in names:
        values[name] = st.text_input(name, key=f"fact-{relation_name}-{name}", help=declared[name].help)
        beside[name] = st.empty()
    return {name: value for name, value in values.items() if value.strip()}


def _source_input(beside: dict):
    """The source chosen: an existing Source's id, or the fields of a new one (None when not given)."""
    kind = st.radio(t("fact_source"), [t("fact_source_existing"), t("fact_source_new")], horizontal=True,
                    key="fact-source-kind")
    if kind == t("fact_source_existing"):
        sources = cached.sources(db.graph_version())
        chosen = st.selectbox(t("fact_source_existing"), sources, index=None, key="fact-source-id",
                              format_func=lambda s: f"{s['title']} ({s['id']})")
        beside["source"] = st.empty()
        return chosen["id"] if chosen else ""
    fields = {}
    for name, key in (("url", "fact_source_url"), ("title", "fact_source_title"), ("publisher", "fact_source_publisher")):
        fields[name] = st.text_input(t(key), key=f"fact-source-{name}")
        beside[name] = st.empty()
    fields["read"] = st.date_input(t("fact_read_date"), value=dt.date.today(), key="fact-source-read").isoformat()
    beside["read"] = st.empty()
    kinds = schema().entities[schema().source_type].properties["kind"].values
    fields["kind"] = st.selectbox(t("fact_source_kind"), kinds, index=kinds.index("news"), key="fact-source-kind-of")
    beside["kind"] = st.empty()
    return fields


def add_fact_form() -> None:
    """Subject and object by search, the relation types the schema allows between them, the dates and the
    type's properties, the source; written on submit, or refused beside the field at fault."""
    beside = {}
    start = widgets.pick_entity(t("fact_subject"), "fact-from")
    beside["from"] = st.empty()
    end = widgets.pick_entity(t("fact_object"), "fact-to")
    beside["to"] = st.empty()
    if not (start and end):
        st.caption(t("fact_choose_ends"))
        return
    allowed = facts.allowed_relations(cached.entity_node(start).type, cached.entity_node(end).type)
    if not allowed:
        st.warning(t("fact_no_type"))
        return
    relation_name = st.selectbox(t("fact_relation"), allowed, key="fact-type",
                                 format_func=lambda name: f"{widgets.relation_label(name)} ({name})")
    beside["type"] = st.empty()
    props = _tie_properties(relation_name, beside)
    source = _source_input(beside)
    if st.button(t("fact_add"), key="fact-add", type="primary"):
        beside["submit"] = st.empty()
        try:
            if isinstance(source, dict):
                source = facts.new_source(source["url"], source["title"], source["publisher"], source["read"],
                                          source["kind"])
            elif not source:
                raise facts.FactError(t("fact_source_missing"), "source")
            written = facts.add(relation_name, start, end, props, source)
        except facts.FactError as error:
            _refused(error, beside)
            return
        _wrote()
        st.success(t("fact_added", tie=f"{written['from']} -[{written['type']}]-> {written['to']}"))


def retract_form(entity_id: str, ties: list) -> None:
    """Choose one of the entity's ties (edge, other) and retract it with a reason and a source."""
    done = st.session_state.pop(f"retracted-{entity_id}", None)
    if done:
        st.success(done)
    if not ties:
        return
    with st.expander(t("retract_tie")):
        edge, other = st.selectbox(t("retract_which"), ties, key=f"retract-tie-{entity_id}",
                                   format_func=lambda pair: f"{widgets.relation_label(pair[0].type)} · {pair[1].name}")
        reason = st.text_input(t("retract_reason"), key=f"retract-reason-{entity_id}")
        sources = cached.sources(db.graph_version())
        source = st.selectbox(t("retract_source"), sources, index=None, key=f"retract-source-{entity_id}",
                              format_func=lambda s: f"{s['title']} ({s['id']})")
        if st.button(t("retract"), key=f"retract-{entity_id}"):
            relation = schema().relation(edge.type)
            key = edge.properties.get(relation.key) if relation.key else None
            try:
                found = facts.retract(edge.type, edge.start, edge.end, reason, source["id"] if source else "", key)
            except facts.FactError as error:
                st.error(str(error))
                return
            _wrote()
            # Said after the rerun, which shows the entity without the tie.
            st.session_state[f"retracted-{entity_id}"] = t(
                "retracted_done", tie=f"{found['from']} -[{found['type']}]-> {found['to']}", reason=found["reason"])
            st.rerun()


def retracted_list(entity_id: str | None = None) -> None:
    """The retracted ties (of one entity, or all), with the reason, the source and the date."""
    found = [x for x in facts.retracted() if entity_id is None or entity_id in (x["from"], x["to"])]
    if not found:
        st.caption(t("retracted_none"))
        return
    # A table, not a data grid: a few rows, read and searched as text.
    st.table([{t("col_relation"): widgets.relation_label(x["type"]), "from": x.get("from_name") or x["from"],
                   "to": x.get("to_name") or x["to"], t("retracted_reason"): x["reason"],
                   t("col_sources"): x["source"], t("retracted_date"): x["date"]} for x in found])
