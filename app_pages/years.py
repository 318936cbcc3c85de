"""The year control pages share: "as of YEAR" (only ties in force that year) and whether undated ties
are shown, kept in the URL (?year=2015&undated=hide) so that every view is a link."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app_pages import widgets
from kb.render import i18n

YEAR_PARAM = "year"
UNDATED_PARAM = "undated"
HIDE = "hide"
FIRST_YEAR, LAST_YEAR = 1900, 2100
# The year the control offers when it is switched on without one in the link.
SUGGESTED_YEAR = 2016


@dataclass(frozen=True)
class AsOf:
    year: int | None     # None: every tie, whenever it was in force
    undated: bool        # with a year: whether ties without a `since` are kept

    def describe(self, language: str = i18n.DEFAULT) -> str:
        if self.year is None:
            return i18n.text("all_ties", language)
        return i18n.text("ties_in_force", language, year=self.year) + (
            "" if self.undated else i18n.text("undated_hidden", language))


def linked_year(name: str = YEAR_PARAM) -> int | None:
    """A year the URL holds under name, or None when it holds none (or no year)."""
    text = st.query_params.get(name, "")
    return int(text) if text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR else None


def year_control(key: str) -> AsOf:
    """The control (the link seeds it, then it owns the URL's year and undated parameters)."""
    t = widgets.t
    year = linked_year()
    with st.container(horizontal=True, vertical_alignment="center"):
        as_of = st.toggle(t("as_of_year"), value=year is not None, key=f"{key}-as-of", help=t("as_of_help"))
        chosen = st.number_input(t("year"), min_value=FIRST_YEAR, max_value=LAST_YEAR, value=year or SUGGESTED_YEAR,
                                 step=1, key=f"{key}-year", disabled=not as_of, label_visibility="collapsed")
        hide = st.toggle(t("hide_undated"), value=st.query_params.get(UNDATED_PARAM) == HIDE,
                         key=f"{key}-hide-undated", disabled=not as_of, help=t("hide_undated_help"))
    if not as_of:
        # Only what this control wrote: a page switch keeps the URL's parameters, and on Cypher `year`
        # and `undated` may be a saved query's own (`?q=...&year=null`).
        if year is not None:
            st.query_params.pop(YEAR_PARAM, None)
        if st.query_params.get(UNDATED_PARAM) == HIDE:
            st.query_params.pop(UNDATED_PARAM, None)
        return AsOf(None, True)
    st.query_params[YEAR_PARAM] = str(int(chosen))
    if hide:
        st.query_params[UNDATED_PARAM] = HIDE
    else:
        st.query_params.pop(UNDATED_PARAM, None)
    return AsOf(int(chosen), not hide)
