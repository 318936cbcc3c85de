"""Story: plays a story for a live demo (?story=NAME&step=N). Each step's graph fills the window under
one line of title and note; Previous and Next by button or by the Left and Right keys. Without a story
in the link: the list of stories."""
import streamlit as st

from kb.render import stories
from kb.errors import StoryError
from kb.queries import NotFound
from app_pages import cached, widgets

BAR_HEIGHT = 52   # pixels above the graph: the line with the buttons, the title and the note
# Playing, the page is the graph: Streamlit's header, toolbar and paddings go, the graph's frame takes
# the window's height under the bar (the frame's own height is fixed in pixels by Streamlit).
PLAYING_STYLE = f"""<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ padding: 0 0.8rem !important; max-width: none !important; }}
[data-testid="stMain"] {{ overflow: hidden; }}
[data-testid="stMainBlockContainer"] > div {{ gap: 0 !important; }}
.st-key-story-bar {{ height: {BAR_HEIGHT}px; flex-wrap: nowrap !important; overflow: hidden; }}
.st-key-story-bar p {{ white-space: nowrap; overflow: hidden; text-overflow: ellipsis; margin: 0; font-size: 1.1rem; }}
.st-key-story-bar [data-testid="stMarkdown"] {{ min-width: 0; flex: 1 1 auto; }}
.st-key-story-graph iframe {{ height: calc(100vh - {BAR_HEIGHT + 4}px) !important; }}
</style>"""


@st.cache_data(ttl=cached.TTL, show_spinner=False)
def checked_story(name: str, modified: float) -> stories.Story:
    """The story read and its entities checked once per version of its file."""
    story = stories.load(name)
    stories.check_ids(story)
    return story


@st.cache_data(ttl=cached.TTL, show_spinner=False)
def shown(step: stories.Step, language: str) -> tuple[str | None, stories.StepView]:
    """The step's view, and its graph as a page (in the language) when it has one."""
    view = stories.view(step, language)
    if view.page is not None:  # a map
        return view.page, view
    return (stories.graph_page(view.graph, widgets.VIS_LIBRARY_URL, language) if view.graph is not None else None), view


def go(number: int) -> None:
    st.query_params["step"] = str(number)


def story_list() -> None:
    st.title(widgets.t("stories_title"))
    st.caption("A story is a file stories/NAME.yaml of steps (a view, a title, a note); see the README. "
               "Add a step from Explore, Paths or a saved query on Cypher with “Add this view to a story”.")
    for name in stories.names():
        try:
            story = stories.load(name)
        except StoryError as error:
            st.warning(str(error))
            continue
        steps = widgets.t("story_steps", steps=len(story.steps))
        st.page_link("app_pages/story.py", label=f"{story.title.in_language(widgets.language())} ({steps})",
                     query_params={"story": name, "step": "1"})


def play(name: str) -> None:
    st.html(PLAYING_STYLE)
    try:
        path = stories.path_of(name)
        story = checked_story(name, path.stat().st_mtime if path.exists() else 0.0)
    except StoryError as error:
        st.error(str(error))
        st.stop()
    count = len(story.steps)
    linked = st.query_params.get("step", "1")
    number = min(max(int(linked) if linked.isdigit() else 1, 1), count)
    st.query_params["step"] = str(number)
    step, language = story.steps[number - 1], widgets.language()
    with st.container(horizontal=True, vertical_alignment="center", key="story-bar"):
        st.button("◀", key="story-previous", help=widgets.t("story_previous"), shortcut="Left", on_click=go,
                  args=(number - 1,), disabled=number == 1)
        st.button("▶", key="story-next", help=widgets.t("story_next"), shortcut="Right", on_click=go,
                  args=(number + 1,), disabled=number == count)
        note = f" — {step.note.in_language(language)}" if step.note.in_language(language) else ""
        st.markdown(f"{number}/{count} · **{step.title.in_language(language)}**{note}")
    try:
        page, view = shown(step, language)
    except NotFound as error:
        st.warning(str(error))
        st.stop()
    with st.container(key="story-graph"):
        if page is not None:
            st.iframe(page, height=800)
        else:
            st.dataframe([dict(zip(view.columns, row)) for row in view.rows], hide_index=True)


name = st.query_params.get("story")
if name:
    play(name)
else:
    story_list()
