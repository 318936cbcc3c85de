"""“Add this view to a story”: one call at the foot of Explore, Paths and Cypher writes the view shown
as the next step of a story file (a new one, or one chosen by name)."""
from __future__ import annotations

import streamlit as st

from kb.render import stories
from kb.errors import StoryError
from kb.saved_queries import parameter_value
from app_pages import widgets


def offer(step_fields: dict | None) -> None:
    """A form that appends stories.Step(**step_fields, title=..., note=...) to the story named;
    step_fields None: this view cannot be a step (a Cypher query that is not a saved one)."""
    t = widgets.t
    with st.expander(t("story_add")):
        if step_fields is None:
            st.caption(t("story_only_saved"))
            return
        kind = step_fields["kind"]
        with st.form(f"add-to-story-{kind}", clear_on_submit=True):
            known = stories.names()
            name = st.text_input(t("story_name"), key=f"add-to-story-{kind}-name",
                                 placeholder=", ".join(known[:4]) or "my-talk",
                                 help=t("story_names_so_far", names=", ".join(known) or t("story_names_none")))
            title = st.text_input(t("story_step_title"), key=f"add-to-story-{kind}-title")
            note = st.text_input(t("story_step_note"), key=f"add-to-story-{kind}-note")
            story_title = st.text_input(t("story_new_title"), key=f"add-to-story-{kind}-story-title")
            if not st.form_submit_button(t("story_add_step")):
                return
        try:
            if not title.strip():
                raise StoryError("the step needs a title")
            name = name.strip()
            step = stories.Step(title=stories.Text(title.strip()), note=stories.Text(note.strip()), **step_fields)
            path, number = stories.add_step(name, step, story_title)
        except StoryError as error:
            st.error(str(error))
            return
        st.success(t("story_step_added", number=number, file=path.name))
        st.page_link("app_pages/story.py", label=t("story_play_step", number=number, name=name),
                     query_params={"story": name, "step": str(number)})


def saved_query_step(cypher_text: str, params: dict) -> dict | None:
    """The step fields of a saved query run with these parameters, None for any other query."""
    saved = stories.saved_query_of(cypher_text)
    if saved is None:
        return None
    # Read as the page reads them (`5` a number); a value left at the query's default is not written.
    values = {name: parameter_value(text) for name, text in params.items() if name in saved.params}
    return {"kind": "query", "query": saved.name,
            "params": tuple(sorted((name, value) for name, value in values.items() if value != saved.params[name]))}
