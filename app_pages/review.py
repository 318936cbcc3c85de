"""Review: the candidate ties `kb extract --queue` proposed, grouped by document, each with the sentence
that states it and the two names marked; accept, edit then accept, or reject, one click each. Beside the
queue: the "Add a fact" form and the retracted ties. Accepted and added facts and the retractions download
as a seed file that `kb load` reads back."""
import html
import itertools

import streamlit as st

from kb.errors import KBError
from kb.schema import schema
from loaders import facts, review
from app_pages import facts as fact_pages, widgets

STATES = ("pending", "accepted", "rejected", "added")
t = widgets.t


def state_label(state: str) -> str:
    """A review item's state as the page names it, in the language shown."""
    return t(f"review_{state}")


def marked(sentence: str, names) -> str:
    """The sentence as HTML, the names it gives the tie's ends marked."""
    text = html.escape(sentence)
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(html.escape(name), f"<mark>{html.escape(name)}</mark>", 1)
    return text


def edits_form(item: dict) -> None:
    """The tie's properties to edit before accepting; accepting with them on submit."""
    declared = schema().relation(item["type"]).properties
    shown = {name: "" if item["props"].get(name) is None else str(item["props"][name])
             for name in declared if name != "sources"}
    values = {name: st.text_input(name, value=value, key=f"{item['id']}-{name}", help=declared[name].help)
              for name, value in shown.items()}
    if st.button(t("review_accept_edited"), key=f"accept-edited-{item['id']}"):
        judge(review.accept, item["id"], {name: value for name, value in values.items() if value != shown[name]})


def judge(action, review_id: str, *args) -> None:
    try:
        action(review_id, *args)
    except KBError as error:
        st.error(str(error))
        return
    st.cache_data.clear()
    st.rerun()


def queue_tab() -> None:
    """The review items of the state chosen, by document, each judged in one click."""
    state = st.segmented_control(t("review_show"), STATES, default="pending", key="review-state",
                                 format_func=state_label) or "pending"
    items = review.items(state)
    if not items:
        st.info(t("review_none", state=state_label(state)))
        return
    for document, group in itertools.groupby(items, key=lambda i: i["document"]):
        group = list(group)
        st.subheader(f"{group[0]['title'] or document} · {len(group)} {state_label(state)}")
        st.caption(f"{document} · {group[0]['path']}")
        for item in group:
            with st.container(border=True):
                item_card(item)


def item_card(item: dict) -> None:
    """One review item: the tie, the evidence with the names marked, and its judgement buttons."""
    props = ", ".join(f"{k}={v}" for k, v in item["props"].items())
    new = {n["id"] for n in item["proposed"]}
    ends = [f"**{item['names'].get(end, item[end])}** (`{item[end]}`{', ' + t('review_new') if item[end] in new else ''})"
            for end in ("from", "to")]
    st.markdown(f"{ends[0]} · {widgets.relation_label(item['type'])} · {ends[1]}" + (f" · {props}" if props else "")
                + f" · {t('review_confidence')} {item['confidence']:.2f}")
    st.markdown(marked(item["sentence"], item["names"].values()), unsafe_allow_html=True)
    st.caption(f"cue: {item['cue']} · {item['id']}" + (f" · reason: {item['reason']}" if item.get("reason") else ""))
    if item["state"] != "pending":
        return
    accept, reject, _ = st.columns([1, 1, 4])
    if accept.button(t("review_accept"), key=f"accept-{item['id']}"):
        judge(review.accept, item["id"], {})
    if reject.button(t("review_reject"), key=f"reject-{item['id']}"):
        judge(review.reject, item["id"], None)
    with st.expander(t("review_edit")):
        edits_form(item)


st.title(t("page_review"))
seed, _, accepted, retracted = facts.seed_text()
st.download_button(t("review_download", accepted=accepted, retracted=retracted), seed,
                   file_name="reviewed.yaml", mime="text/yaml", disabled=not (accepted or retracted),
                   key="review-download")
queue, add, retractions = st.tabs([t("review_tab_queue"), t("review_tab_add"), t("review_tab_retracted")])
with queue:
    queue_tab()
with add:
    fact_pages.add_fact_form()
with retractions:
    fact_pages.retracted_list()
